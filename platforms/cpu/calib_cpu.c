/* calib_cpu.c: the cpu calibration back-end: the STREAM triad (the memory
 * roof, calib_triad.c) and fp32 FMA chains (the arithmetic roof,
 * calib_fma.c). */
#include "platforms/backend.h"

extern const struct jb_calib_kernel jb_calib_cpu_triad, jb_calib_cpu_fma;

static const struct jb_calib_kernel *const cpu_kernels[] = {&jb_calib_cpu_triad, &jb_calib_cpu_fma,
                                                            NULL};

const struct jb_calib_backend_ops jb_calib_backend_cpu = {
    .b =
        {
            .name = "cpu",
            .family = "calibration",
            .version = "1",
            .dtypes = "fp64,fp32",
            .description = "joulebench's CPU calibration kernels (triad, fma)",
            .options = NULL,
            .probe = NULL,
        },
    .kernels = cpu_kernels,
};
