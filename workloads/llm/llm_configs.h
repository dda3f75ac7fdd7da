/* llm_configs.h: the LLM configurations, one row each (no include guard: it
 * is read several times, with JB_LLM_CONFIG defined differently, to make
 * the configuration table, the workloads and their aliases from the same
 * rows). A new configuration is one row here and nothing else.
 *
 * JB_LLM_CONFIG(id, name, dim, n_layers, n_heads, n_kv_heads, hidden_dim,
 *               vocab_size, tied, max_context, rope_theta, norm_eps,
 *               rope_scaling, description)
 *
 * rope_scaling is a struct jb_llm_rope_scaling initializer: JB_ROPE_NONE, or
 * JB_ROPE_LLAMA3(factor) for the checkpoints whose config.json says
 * "rope_type": "llama3" (low/high frequency factors 1 and 4, original
 * context 8192; factor 32 for Llama 3.2 1B, 8 for Llama 3.1 8B).
 *
 * Figures are the published ones of each model: llama2.c's stories15M and
 * stories110M (context 256 and 1024), TinyLlama-1.1B (context 2048, theta
 * 1e4, eps 1e-5), Llama 3.2 1B and 3.1 8B (context 131072, theta 5e5, eps
 * 1e-5), Llama 2 7B (context 4096, theta 1e4, eps 1e-5). */
JB_LLM_CONFIG(stories15m, "stories15m", 288, 6, 6, 6, 768, 32000, 0, 256, 10000.0f, 1e-5f, JB_ROPE_NONE,
              "LLM decode step, llama2.c stories15M shape (15M params), synthetic weights")
JB_LLM_CONFIG(stories110m, "stories110m", 768, 12, 12, 12, 2048, 32000, 0, 1024, 10000.0f, 1e-5f,
              JB_ROPE_NONE, "LLM decode step, llama2.c stories110M shape (110M params), synthetic weights")
JB_LLM_CONFIG(tinyllama_1_1b, "tinyllama-1.1b", 2048, 22, 32, 4, 5632, 32000, 0, 2048, 10000.0f,
              1e-5f, JB_ROPE_NONE, "LLM decode step, TinyLlama 1.1B shape (GQA 32/4), synthetic weights or gguf=PATH")
JB_LLM_CONFIG(llama3_2_1b, "llama3.2-1b", 2048, 16, 32, 8, 8192, 128256, 1, 131072, 500000.0f,
              1e-5f, JB_ROPE_LLAMA3(32.0f), "LLM decode step, Llama 3.2 1B shape (GQA, tied, 128k vocab), synthetic or gguf=PATH")
JB_LLM_CONFIG(llama3_1_8b, "llama3.1-8b", 4096, 32, 32, 8, 14336, 128256, 0, 131072, 500000.0f,
              1e-5f, JB_ROPE_LLAMA3(8.0f), "LLM decode step, Llama 3.1 8B shape (GQA 32/8), synthetic weights or gguf=PATH")
JB_LLM_CONFIG(llama2_7b, "llama2-7b", 4096, 32, 32, 32, 11008, 32000, 0, 4096, 10000.0f, 1e-5f,
              JB_ROPE_NONE, "LLM decode step, Llama 2 7B shape (MHA), synthetic weights or gguf=PATH")
