/* cpu_features.h: which vector instruction sets this CPU has, for choosing a
 * kernel at run time. JB_CPU_FORCE=reference|avx2|avx512 in the environment
 * caps the choice (for testing each path on one machine). */
#ifndef JB_CPU_FEATURES_H
#define JB_CPU_FEATURES_H

enum jb_isa {
    JB_ISA_REFERENCE = 0, /* portable C */
    JB_ISA_AVX2 = 1,      /* AVX2 + FMA + F16C */
    JB_ISA_AVX512 = 2,    /* AVX-512 F/BW/VL/DQ/VNNI */
    JB_ISA_NEON = 3
};

/* The best ISA this CPU supports, capped by JB_CPU_FORCE. */
enum jb_isa jb_cpu_isa(void);
const char *jb_isa_name(enum jb_isa isa);

#endif
