/* cpu_features.c: see cpu_features.h. */
#include "platforms/cpu/cpu_features.h"

#include <stdlib.h>
#include <string.h>

static enum jb_isa detect(void)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma"))
        return JB_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return JB_ISA_AVX2;
    return JB_ISA_REFERENCE;
#elif defined(__aarch64__)
    return JB_ISA_NEON;
#else
    return JB_ISA_REFERENCE;
#endif
}

enum jb_isa jb_cpu_isa(void)
{
    enum jb_isa isa = detect();
    const char *force = getenv("JB_CPU_FORCE");
    if (force) {
        enum jb_isa cap = JB_ISA_REFERENCE;
        if (!strcmp(force, "avx2"))
            cap = JB_ISA_AVX2;
        else if (!strcmp(force, "avx512"))
            cap = JB_ISA_AVX512;
        else if (!strcmp(force, "neon"))
            cap = JB_ISA_NEON;
        /* the enum orders x86's sets, not NEON against them: a cap from
         * the other architecture's family leaves only the portable path
         * (JB_CPU_FORCE=avx2 on an Arm core is not "NEON or less") */
        if ((cap == JB_ISA_NEON) != (isa == JB_ISA_NEON))
            isa = JB_ISA_REFERENCE;
        else if (cap < isa)
            isa = cap;
    }
    return isa;
}

const char *jb_isa_name(enum jb_isa isa)
{
    switch (isa) {
    case JB_ISA_AVX2: return "avx2";
    case JB_ISA_AVX512: return "avx512";
    case JB_ISA_NEON: return "neon";
    default: return "reference";
    }
}
