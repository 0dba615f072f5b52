"""Prompt templates (the .txt files beside this one), installed as package data `topicchat.prompts`."""
