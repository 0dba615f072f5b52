"""The assistant: routing questions to topics, cited answers, and the Gradio UI."""
