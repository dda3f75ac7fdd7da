/* llm_format.h: what every LLM back-end computes on, and the model layer
 * (workloads/llm) defines its configurations with.
 *
 * It fixes three things that must be identical across back-ends so that their
 * results compare: the shape of a configuration, the in-memory layout of weight
 * tensors per precision (the q8_0/q4_0 blocks are byte-for-byte ggml's
 * block_q8_0/block_q4_0, so GGUF files map onto them and results compare with
 * llama.cpp), and the synthetic weights as a pure function of a seed. This
 * header is stable: add to it, do not change what is here. */
#ifndef JB_LLM_FORMAT_H
#define JB_LLM_FORMAT_H

#include <stddef.h>
#include <stdint.h>

struct jb_pool;

/* One model shape. The numbers are the published ones of each checkpoint
 * (llama2.c's stories models; TinyLlama-1.1B; Meta's Llama 2 7B, 3.1 8B, 3.2 1B). */
struct jb_llm_config {
    const char *name;  /* "llama3.2-1b" */
    int dim;           /* model (residual stream) width */
    int n_layers;
    int n_heads;       /* query heads; head_dim = dim / n_heads */
    int n_kv_heads;    /* key/value heads (grouped-query attention when < n_heads) */
    int hidden_dim;    /* SwiGLU feed-forward width */
    int vocab_size;
    int tied;          /* 1: the classifier reuses token_embd (no output.weight) */
    int max_context;   /* the model's context window, in tokens */
    float rope_theta;  /* RoPE base frequency */
    float norm_eps;    /* RMSNorm epsilon */
    /* Llama 3.x RoPE frequency scaling ("rope_type": "llama3" in the
     * checkpoint's config.json); factor 0 for none. Frequencies whose
     * wavelength is above orig_context / low_freq_factor are divided by
     * factor, those below orig_context / high_freq_factor kept, and those in
     * between interpolated (jb_llm_rope_factors). */
    struct jb_llm_rope_scaling {
        float factor;
        float low_freq_factor;
        float high_freq_factor;
        int orig_context;
    } rope_scaling;
};
/* Initializers of rope_scaling: none, and Llama 3.x's with its factor. */
#define JB_ROPE_NONE {0.0f, 0.0f, 0.0f, 0}
#define JB_ROPE_LLAMA3(factor) {(factor), 1.0f, 4.0f, 8192}

/* Element types of a weight matrix. The enum values are internal; GGUF's
 * ggml_type numbers are mapped in the loader. */
enum jb_llm_dtype {
    JB_LLM_F32 = 0,
    JB_LLM_F16 = 1,  /* IEEE half; only from GGUF files (and the fp16 KV cache) */
    JB_LLM_BF16 = 2, /* bfloat16: the upper 16 bits of an fp32 */
    JB_LLM_Q8_0 = 3,
    JB_LLM_Q4_0 = 4,
    JB_LLM_Q4_K = 5, /* k-quants: superblocks of 256 weights (below) */
    JB_LLM_Q5_K = 6,
    JB_LLM_Q6_K = 7,
    JB_LLM_Q8_K = 8  /* activations only: the partner of the k-quants in a dot product */
};

/* Block quantization: 32 weights per block with one fp16 scale d.
 * q8_0: value[j] = qs[j] * d.                               (34 bytes)
 * q4_0: value[j] = ((qs[j] & 0xF) - 8) * d for j < 16, and
 *       value[j+16] = ((qs[j] >> 4) - 8) * d.               (18 bytes)
 * The layout is ggml's (ggml-common.h: block_q8_0, block_q4_0): d first as
 * raw IEEE half bits, packed, no padding. */
#define JB_QK 32
struct jb_block_q8_0 {
    uint16_t d;
    int8_t qs[JB_QK];
};
struct jb_block_q4_0 {
    uint16_t d;
    uint8_t qs[JB_QK / 2];
};
_Static_assert(sizeof(struct jb_block_q8_0) == 34, "block_q8_0 must be 34 bytes as in ggml");
_Static_assert(sizeof(struct jb_block_q4_0) == 18, "block_q4_0 must be 18 bytes as in ggml");

/* k-quants: superblocks of 256 weights split into sub-blocks, each with a
 * small integer scale (and min), the superblock holding fp16 scales of those.
 * Layouts are ggml's (ggml-common.h: block_q4_K, block_q5_K, block_q6_K,
 * block_q8_K; the scale packing of get_scale_min_k4 in ggml-quants.c), so
 * llama.cpp's Q4_K_M/Q5_K_M/Q6_K files map onto them.
 *
 * q4_K: 8 sub-blocks of 32. scales[12] packs 8 six-bit scales sc[j] and 8
 *   six-bit mins m[j]: for j < 4, sc[j] = scales[j] & 63 and m[j] =
 *   scales[j+4] & 63; for j >= 4, sc[j] = (scales[j+4] & 15) | (scales[j-4]
 *   >> 6) << 4 and m[j] = (scales[j+4] >> 4) | (scales[j] >> 6) << 4.
 *   value = d * sc[j] * q - dmin * m[j]. The 128 bytes qs hold 64 weights
 *   per 32 bytes: weight 64c + l (l < 32) is the low nibble of qs[32c + l],
 *   weight 64c + 32 + l its high nibble.                       (144 bytes)
 * q5_K: as q4_K with a fifth bit: bit 2c of qh[l] is the high bit of weight
 *   64c + l, bit 2c+1 that of weight 64c + 32 + l.             (176 bytes)
 * q6_K: 16 sub-blocks of 16, int8 scales, value = d * scales[i/16] * (q - 32)
 *   with q in 0..63. Per half (128 weights, h = 0, 1; ql += 64h, qh += 32h),
 *   for l < 32: weight 128h + l = ql[l] & 15 | (qh[l] & 3) << 4; + 32: ql[l+32]
 *   & 15 | (qh[l] >> 2 & 3) << 4; + 64: ql[l] >> 4 | (qh[l] >> 4 & 3) << 4;
 *   + 96: ql[l+32] >> 4 | (qh[l] >> 6) << 4.                   (210 bytes)
 * q8_K: the activation: value = d * qs[j] (d an fp32), bsums[g] = sum of
 *   qs[16g..16g+15] so that the mins of q4_K/q5_K and q6_K's -32 cost one
 *   multiply per sub-block.                                    (292 bytes) */
#define JB_QK_K 256
#define JB_K_SCALE_SIZE 12
struct jb_block_q4_K {
    uint16_t d;    /* fp16 scale of the sub-block scales */
    uint16_t dmin; /* fp16 scale of the sub-block mins */
    uint8_t scales[JB_K_SCALE_SIZE];
    uint8_t qs[JB_QK_K / 2];
};
struct jb_block_q5_K {
    uint16_t d;
    uint16_t dmin;
    uint8_t scales[JB_K_SCALE_SIZE];
    uint8_t qh[JB_QK_K / 8];
    uint8_t qs[JB_QK_K / 2];
};
struct jb_block_q6_K {
    uint8_t ql[JB_QK_K / 2];
    uint8_t qh[JB_QK_K / 4];
    int8_t scales[JB_QK_K / 16];
    uint16_t d;
};
struct jb_block_q8_K {
    float d;
    int8_t qs[JB_QK_K];
    int16_t bsums[JB_QK_K / 16];
};
_Static_assert(sizeof(struct jb_block_q4_K) == 144, "block_q4_K must be 144 bytes as in ggml");
_Static_assert(sizeof(struct jb_block_q5_K) == 176, "block_q5_K must be 176 bytes as in ggml");
_Static_assert(sizeof(struct jb_block_q6_K) == 210, "block_q6_K must be 210 bytes as in ggml");
_Static_assert(sizeof(struct jb_block_q8_K) == 292, "block_q8_K must be 292 bytes as in ggml");
_Static_assert(offsetof(struct jb_block_q5_K, qh) == 16 && offsetof(struct jb_block_q6_K, d) == 208,
               "k-quant field order must be ggml's");

/* Decodes sub-block j's six-bit scale and min of a q4_K/q5_K block. */
static inline void jb_kquant_scale_min(int j, const uint8_t *s, uint8_t *sc, uint8_t *m)
{
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (uint8_t)((s[j + 4] & 15) | (s[j - 4] >> 6) << 4);
        *m = (uint8_t)((s[j + 4] >> 4) | (s[j] >> 6) << 4);
    }
}

/* A row-major matrix [rows][cols]: row r starts at data + r * row_bytes.
 * Quantized rows are cols/32 consecutive blocks (cols % 32 == 0), or cols/256
 * superblocks for the k-quants (cols % 256 == 0). The matrix
 * computes y = W x with W of shape [out][in]: rows = out, cols = in (GGUF's
 * ne0 = cols, ne1 = rows). */
struct jb_llm_matrix {
    enum jb_llm_dtype dtype;
    int rows, cols;
    size_t row_bytes;
    void *data;
};

/* One transformer block. Norm weights are always fp32 (converted at load). */
struct jb_llm_layer {
    float *attn_norm;             /* [dim] */
    struct jb_llm_matrix wq;      /* [n_heads*head_dim][dim] */
    struct jb_llm_matrix wk;      /* [n_kv_heads*head_dim][dim] */
    struct jb_llm_matrix wv;      /* [n_kv_heads*head_dim][dim] */
    struct jb_llm_matrix wo;      /* [dim][n_heads*head_dim] */
    float *ffn_norm;              /* [dim] */
    struct jb_llm_matrix w_gate;  /* [hidden][dim]  (w1, ffn_gate) */
    struct jb_llm_matrix w_up;    /* [hidden][dim]  (w3, ffn_up) */
    struct jb_llm_matrix w_down;  /* [dim][hidden]  (w2, ffn_down) */
};

/* All weights of a model. Owned by whoever created them (synth or GGUF
 * loader); free with jb_llm_weights_free. `output` is a copy of the
 * token_embd descriptor (same data) when cfg.tied. */
struct jb_llm_weights {
    struct jb_llm_config cfg;     /* name points to a static string */
    enum jb_llm_dtype dtype;      /* the precision asked for (matrices may differ in GGUF) */
    struct jb_llm_matrix token_embd; /* [vocab][dim] */
    struct jb_llm_layer *layers;  /* [n_layers] */
    float *output_norm;           /* [dim] */
    struct jb_llm_matrix output;  /* [vocab][dim] */
    /* RoPE frequency i (of head_dim/2) is divided by rope_factors[i]: from
     * the config's scaling when synthetic, from a GGUF's rope_freqs.weight;
     * NULL for plain RoPE. Owned by the weight set. */
    float *rope_factors;
    double param_count;           /* number of parameters (tied embedding counted once) */
    double param_bytes;           /* bytes of all weights as stored */
    struct jb_pool *pool;         /* allocator of the buffers (borrowed), or NULL: malloc */
    void **allocs;                /* private: buffers to free */
    size_t *alloc_bytes;
    int nallocs, allocs_cap;
};

/* Bytes of one row of `cols` elements of dtype (cols a multiple of
 * jb_llm_block_elems(dtype)). */
size_t jb_llm_row_bytes(enum jb_llm_dtype dtype, int cols);
/* Weights per block: 1 (fp32, f16, bf16), 32 (q8_0, q4_0), 256 (k-quants). */
int jb_llm_block_elems(enum jb_llm_dtype dtype);
/* 1 for the block-quantized types, whose rows multiply a quantized activation. */
int jb_llm_dtype_is_quant(enum jb_llm_dtype dtype);
/* The activation type a row of dtype is multiplied with: Q8_0 for q8_0 and
 * q4_0, Q8_K for the k-quants, F32 otherwise. */
enum jb_llm_dtype jb_llm_act_dtype(enum jb_llm_dtype dtype);
/* The type a matrix asked for in dtype is stored in when its rows of cols
 * weights are not whole superblocks: k-quants fall back to q8_0 (llama.cpp
 * falls back to a 32-block type for such tensors too); others are kept. */
enum jb_llm_dtype jb_llm_dtype_for_cols(enum jb_llm_dtype dtype, int cols);
const char *jb_llm_dtype_name(enum jb_llm_dtype dtype);
/* "fp32" | "f32", "f16", "bf16", "q8_0", "q4_0", "q4_k", "q5_k", "q6_k"
 * (either case of K) -> dtype; -1 if unknown. */
int jb_llm_dtype_parse(const char *name);

/* Scalar conversions, bit-exact (round to nearest even), used by every back-end. */
uint16_t jb_fp16_from_f32(float f);
float jb_f32_from_fp16(uint16_t h);
uint16_t jb_bf16_from_f32(float f);
float jb_f32_from_bf16(uint16_t h);

/* Quantizes/converts one fp32 row of n values into dtype (q8_0 and q4_0 use
 * ggml's reference rounding: q8_0 d = amax/127; q4_0 d = -max/8 where max is
 * the value of largest magnitude; the k-quants' own rounding is described in
 * llm_kquant.c: the layout is ggml's, the choice of scales simpler than
 * ggml's search). Dequantizes one row back to fp32. */
void jb_llm_quantize_row(enum jb_llm_dtype dtype, const float *src, void *dst, int n);
void jb_llm_dequantize_row(enum jb_llm_dtype dtype, const void *src, float *dst, int n);

/* The Llama 3.x frequency divisors of cfg's rope_scaling for the head_dim/2
 * pairs of a head (all 1 when factor is 0). */
void jb_llm_rope_factors(const struct jb_llm_config *cfg, int head_dim, float *out);
/* The RoPE angle per position of pair i (0 <= i < head_dim/2):
 * theta^(-2i/head_dim) / factors[i] (factors may be NULL), in double. */
double jb_llm_rope_freq(const struct jb_llm_config *cfg, const float *factors, int head_dim,
                        int i);

/* Synthetic weights.
 *
 * Every tensor has an id (jb_llm_tensor_id) and every element e (row-major
 * index) the value  offset + scale * u(seed, id, e),  where u is uniform in
 * [-1, 1) from 24 bits of splitmix64(seed + id * 2^40 + e) (bits 63..40).
 * Matrices: offset 0, scale sqrt(3 / cols), so that each weight has standard
 * deviation 1/sqrt(cols) and activations keep unit scale through the layers,
 * like a trained model's (never zeros). Norm vectors: offset 1, scale 0.1.
 * Quantized precisions quantize these fp32 values row by row. */
enum jb_llm_tensor_kind {
    JB_LLM_T_TOKEN_EMBD = 0,
    JB_LLM_T_ATTN_NORM,
    JB_LLM_T_WQ,
    JB_LLM_T_WK,
    JB_LLM_T_WV,
    JB_LLM_T_WO,
    JB_LLM_T_FFN_NORM,
    JB_LLM_T_W_GATE,
    JB_LLM_T_W_UP,
    JB_LLM_T_W_DOWN,
    JB_LLM_T_OUTPUT_NORM,
    JB_LLM_T_OUTPUT
};
/* id = (layer + 1) * 16 + kind for per-layer tensors, kind for global ones. */
uint32_t jb_llm_tensor_id(int layer, enum jb_llm_tensor_kind kind);
/* Fills out[0..n) with the synthetic values of elements [first, first+n). */
void jb_llm_synth_values(uint64_t seed, uint32_t id, uint64_t first, size_t n, float offset,
                         float scale, float *out);

/* Creates the whole model's synthetic weights in `dtype` (JB_LLM_F32, BF16,
 * Q8_0, Q4_0, Q4_K, Q5_K, Q6_K; a k-quant matrix whose rows are not whole
 * superblocks is stored as jb_llm_dtype_for_cols says), generated in parallel on `pool` and allocated with
 * jb_pool_alloc (NUMA-bound when the pool binds); pool may be NULL (one
 * thread, plain allocation). On success *out is owned by the caller. */
int jb_llm_weights_synth(const struct jb_llm_config *cfg, enum jb_llm_dtype dtype, uint64_t seed,
                         struct jb_pool *pool, struct jb_llm_weights **out, char *err,
                         size_t errlen);
void jb_llm_weights_free(struct jb_llm_weights *w);
/* Allocates a buffer owned by the weight set (freed with it), from its pool
 * when it has one; for loaders. NULL when out of memory. */
void *jb_llm_weights_alloc(struct jb_llm_weights *w, size_t bytes);
/* Asks for transparent huge pages over [p, p + bytes) (before first touch). */
void jb_llm_advise_huge(void *p, size_t bytes);

/* Bytes the weights of cfg take in dtype (for the memory check before any
 * allocation), and parameter count. */
double jb_llm_weight_bytes(const struct jb_llm_config *cfg, enum jb_llm_dtype dtype);
double jb_llm_param_count(const struct jb_llm_config *cfg);

#endif
