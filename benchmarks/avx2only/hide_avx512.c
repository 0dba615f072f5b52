/* Hide AVX-512, AVX-VNNI and AMX from every CPUID the process runs, so libraries that pick kernels at
   run time (numpy, torch/ATen, oneDNN, MKL, ONNX Runtime's MLAS) take their AVX2 code paths, as on a CPU
   without those extensions. Uses Linux CPUID faulting (arch_prctl ARCH_SET_CPUID): each CPUID traps,
   the handler runs the real one and clears the hidden bits. Needs the cpuid_fault CPU flag. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARCH_SET_CPUID 0x1012

#include <dlfcn.h>

/* The program's own SIGSEGV disposition (Python's faulthandler, which Ray and pytest switch on, installs
   one): kept here, and run for every fault that is not a trapped CPUID, so the program behaves as it would
   without this library. */
static struct sigaction app_action; /* SIG_DFL until the program sets one */
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

static void cpuid_raw(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static void mask(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    if (leaf == 7 && sub == 0) {
        /* EBX: avx512f dq ifma pf er cd bw vl */
        r[1] &= ~((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) | (1u << 31));
        /* ECX: avx512_vbmi, vbmi2, vnni, bitalg, vpopcntdq */
        r[2] &= ~((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14));
        /* EDX: 4vnniw, 4fmaps, vp2intersect, amx_bf16, avx512_fp16, amx_tile, amx_int8 */
        r[3] &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) | (1u << 25));
    } else if (leaf == 7 && sub == 1) {
        /* EAX: avx_vnni, avx512_bf16, amx_fp16, avx_ifma; EDX: avx_vnni_int8, avx_ne_convert, amx_complex,
           avx_vnni_int16, avx10 */
        r[0] &= ~((1u << 4) | (1u << 5) | (1u << 21) | (1u << 23));
        r[3] &= ~((1u << 4) | (1u << 5) | (1u << 8) | (1u << 10) | (1u << 19));
    } else if (leaf == 0xd && sub == 0) {
        /* supported XSAVE state: AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM) and AMX (XTILECFG, XTILEDATA) */
        r[0] &= ~((1u << 5) | (1u << 6) | (1u << 7) | (1u << 17) | (1u << 18));
    } else if (leaf == 0x1d || leaf == 0x1e || leaf == 0x24) {
        r[0] = r[1] = r[2] = r[3] = 0; /* AMX palette / TMUL / AVX10 leaves */
    }
}

static void on_sigsegv(int sig, siginfo_t *info, void *ctx_) {
    ucontext_t *ctx = (ucontext_t *)ctx_;
    greg_t *g = ctx->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)g[REG_RIP];
    if (ip[0] == 0x0f && ip[1] == 0xa2) {
        uint32_t r[4];
        uint32_t leaf = (uint32_t)g[REG_RAX], sub = (uint32_t)g[REG_RCX];
        syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1);
        cpuid_raw(leaf, sub, r);
        syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0);
        mask(leaf, sub, r);
        g[REG_RAX] = r[0];
        g[REG_RBX] = r[1];
        g[REG_RCX] = r[2];
        g[REG_RDX] = r[3];
        g[REG_RIP] += 2;
        return;
    }
    /* a real fault: the program's handler if it set one, else the default (the instruction faults again) */
    if (app_action.sa_flags & SA_SIGINFO) {
        if (app_action.sa_sigaction) {
            app_action.sa_sigaction(sig, info, ctx_);
            return;
        }
    } else if (app_action.sa_handler != SIG_DFL && app_action.sa_handler != SIG_IGN) {
        app_action.sa_handler(sig);
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    real_sigaction(sig, &dfl, NULL);
}

/* Programs that set a SIGSEGV handler get it recorded, not installed: this library's handler stays first. */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (!real_sigaction)
        real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    if (sig != SIGSEGV)
        return real_sigaction(sig, act, old);
    if (old)
        *old = app_action;
    if (act)
        app_action = *act;
    return 0;
}

__attribute__((constructor)) static void hide_extensions(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsegv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
    memset(&app_action, 0, sizeof app_action);
    app_action.sa_handler = SIG_DFL;
    real_sigaction(SIGSEGV, &sa, NULL);
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        perror("avx2only: CPUID faulting is not available on this CPU/kernel");
        exit(3);
    }
}
