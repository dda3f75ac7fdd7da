/* test_tinyml_tiled_emu.c: the tiled TinyML CUDA kernels' arithmetic
 * (platforms/cuda/tinyml_tile.h) run on the host, phase by phase for every
 * thread of every block as the GPU runs them between barriers, against the
 * CPU reference layer by layer: every conv, depthwise and fully connected
 * layer of the four MLPerf Tiny models, int8 and fp32, on a batch of 3
 * items (row tiles that straddle items and end part-way), with random
 * inputs. int8 must be bit-exact; fp32 within JB_TM_F32_RTOL. Needs no GPU
 * and no CUDA: this is what tests the tiling where CI has no GPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "platforms/cuda/tinyml_tile.h"
#include "platforms/tinyml/tinyml_model.h"

#define BATCH 3

static uint64_t rng = 88172645463325252ull;
static uint32_t next_u32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* The GPU's grid, serially: for each block, each phase for all threads. */
static void emu_gemm(const struct jb_tm_dev_layer *l, int batch)
{
    struct jb_tm_gemm_geom g = jb_tm_gemm_geom_of(l, batch);
    unsigned gx, gy;
    jb_tm_gemm_grid(&g, &gx, &gy);
    static union jb_tm_sv as[JB_TM_GEMM_TK][JB_TM_GEMM_TM + 1], ws[JB_TM_GEMM_TK][JB_TM_GEMM_TN + 1];
    static union jb_tm_sv acc[JB_TM_TILE_THREADS][JB_TM_GEMM_R][JB_TM_GEMM_R];
    for (unsigned by = 0; by < gy; by++)
        for (unsigned bx = 0; bx < gx; bx++) {
            int m0 = (int)bx * JB_TM_GEMM_TM, n0 = (int)by * JB_TM_GEMM_TN;
            memset(acc, 0, sizeof(acc));
            /* stale shared memory from the last block must not matter */
            memset(as, 0x5a, sizeof(as));
            memset(ws, 0xa5, sizeof(ws));
            for (int k0 = 0; k0 < g.K; k0 += JB_TM_GEMM_TK) {
                for (int t = 0; t < JB_TM_TILE_THREADS; t++)
                    jb_tm_gemm_load(l, &g, m0, n0, k0, t, as, ws);
                for (int t = 0; t < JB_TM_TILE_THREADS; t++)
                    jb_tm_gemm_mac(l, &g, k0, t, (const union jb_tm_sv(*)[JB_TM_GEMM_TM + 1])as,
                                   (const union jb_tm_sv(*)[JB_TM_GEMM_TN + 1])ws, acc[t]);
            }
            for (int t = 0; t < JB_TM_TILE_THREADS; t++)
                jb_tm_gemm_store(l, &g, m0, n0, t, acc[t]);
        }
}

static void emu_dw(const struct jb_tm_dev_layer *l, int batch)
{
    size_t n = jb_tm_dw_smem_values(l);
    assert_true(n > 0);
    union jb_tm_sv *sm = malloc(n * sizeof(*sm));
    assert_non_null(sm);
    unsigned nb = jb_tm_dw_blocks(l, batch);
    for (unsigned b = 0; b < nb; b++) {
        memset(sm, 0x5a, n * sizeof(*sm));
        struct jb_tm_dw_tile t = jb_tm_dw_tile_of(l, b);
        for (int k = 0; k < JB_TM_TILE_THREADS; k++)
            jb_tm_dw_load(l, t, k, sm);
        for (int k = 0; k < JB_TM_TILE_THREADS; k++)
            jb_tm_dw_compute(l, t, k, sm);
    }
    free(sm);
}

static int layers_checked;

static void check_model(const struct jb_tm_model_def *def, enum jb_tm_dtype dt)
{
    struct jb_tm_model *m = NULL;
    char err[JB_ERRLEN] = "";
    assert_int_equal(jb_tm_model_open(def, dt, 7, JB_ISA_REFERENCE, &m, err, sizeof(err)), 0);
    size_t esz = jb_tm_model_elem_bytes(m);
    double worst = 0.0;
    for (int i = 0; i < jb_tm_model_n_layers(m); i++) {
        int ti = 0, ti2 = -1;
        const struct jb_tm_layer *l = jb_tm_model_layer(m, i, &ti, &ti2);
        if (l->op != JB_TM_CONV && l->op != JB_TM_DWCONV && l->op != JB_TM_FC)
            continue;
        size_t in_e = jb_tm_model_tensor_elems(m, ti), out_e = jb_tm_model_tensor_elems(m, i + 1);
        uint8_t *in = malloc(in_e * esz * BATCH), *got = malloc(out_e * esz * BATCH),
                *ref = malloc(out_e * esz);
        assert_true(in && got && ref);
        for (size_t e = 0; e < in_e * BATCH; e++) {
            if (dt == JB_TM_INT8)
                ((int8_t *)(void *)in)[e] = (int8_t)(next_u32() & 0xff);
            else
                ((float *)(void *)in)[e] = (float)((int)(next_u32() % 2001) - 1000) / 500.0f;
        }
        memset(got, 0x77, out_e * esz * BATCH);
        struct jb_tm_dev_layer d = jb_tm_dev_layer_of(l, in_e, out_e);
        d.x = in;
        d.y = got;
        if (l->op == JB_TM_DWCONV && jb_tm_dw_smem_values(&d) == 0)
            goto next; /* the back-end runs the plain kernel there */
        if (l->op == JB_TM_DWCONV)
            emu_dw(&d, BATCH);
        else
            emu_gemm(&d, BATCH);
        for (int b = 0; b < BATCH; b++) {
            jb_tm_layer_run_ref(l, in + in_e * esz * (size_t)b, NULL, ref);
            const uint8_t *gb = got + out_e * esz * (size_t)b;
            if (dt == JB_TM_INT8) {
                if (memcmp(gb, ref, out_e))
                    fail_msg("%s int8 layer %d (op %d) item %d: tiled differs from reference",
                             def->name, i, (int)l->op, b);
                continue;
            }
            const float *gf = (const float *)(const void *)gb, *rf = (const float *)(void *)ref;
            float mx = 1.0f;
            for (size_t e = 0; e < out_e; e++)
                mx = fabsf(rf[e]) > mx ? fabsf(rf[e]) : mx;
            for (size_t e = 0; e < out_e; e++) {
                double rel = fabs((double)gf[e] - (double)rf[e]) / mx;
                worst = rel > worst ? rel : worst;
                if (!(rel <= JB_TM_F32_RTOL))
                    fail_msg("%s fp32 layer %d item %d elem %zu: %g vs %g", def->name, i, b, e,
                             (double)gf[e], (double)rf[e]);
            }
        }
        layers_checked++;
    next:
        free(in);
        free(got);
        free(ref);
    }
    print_message("%s %s: tiled emulation matches the reference (fp32 max rel diff %.3g)\n",
                  def->name, dt == JB_TM_INT8 ? "int8" : "fp32", worst);
    jb_tm_model_close(m);
}

static void test_models_tiled_match_reference(void **state)
{
    (void)state;
    const struct jb_tm_model_def *defs[] = {&jb_tm_kws_dscnn, &jb_tm_vww_mobilenet,
                                            &jb_tm_ic_resnet8, &jb_tm_ad_autoencoder};
    layers_checked = 0;
    for (int i = 0; i < 4; i++) {
        check_model(defs[i], JB_TM_INT8);
        check_model(defs[i], JB_TM_FP32);
    }
    /* every model has conv/dw/fc layers: the loop above did check some */
    assert_true(layers_checked >= 8);
}

/* The requantization both sides share, against the CPU's own helper. */
static void test_mbqm_matches_cpu(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        int32_t x = (int32_t)next_u32();
        int32_t mult = (int32_t)(next_u32() | 0x40000000u) & 0x7fffffff;
        int32_t shift = (int32_t)(next_u32() % 40) - 31;
        assert_int_equal(jb_tm_tile_mbqm(x, mult, shift), jb_tm_mbqm(x, mult, shift));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_tiled_match_reference),
        cmocka_unit_test(test_mbqm_matches_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
