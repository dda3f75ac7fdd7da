/* cli_export.c: `joulebench export-model`: a workload's standardized inputs
 * for an outside implementation (workloads/llm/llm_export.h): the LLM
 * configurations' synthetic weights as GGUF and the check file beside them. */
#include "app/cli_util.h"
#include "base/error.h"
#include "harness/record.h"
#include "workloads/llm/llm.h"
#include "workloads/llm/llm_export.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char export_usage[] =
    "usage: joulebench export-model WORKLOAD [--dtype D] [--seed N] [--prompt-tokens N]\n"
    "                               -o FILE.gguf [--check FILE.json]\n"
    "Writes an LLM workload's synthetic weights as GGUF (llama.cpp reads it) and a\n"
    "check file (default FILE.gguf.check.json): a prompt of token ids and the logits\n"
    "joulebench's oracle gives after it, with the tolerance of the built-in check.\n"
    "  --dtype D           fp32 (default), bf16, q8_0 or q4_0\n"
    "  --seed N            seed of the weights, as joulebench run --seed (default 1)\n"
    "  --prompt-tokens N   tokens of the check's prompt (default 8)\n"
    "LLM workloads: stories15m, stories110m, tinyllama-1.1b, llama3.2-1b, llama3.1-8b,\n"
    "llama2-7b. TinyML models cannot be exported yet.\n";

int jb_cli_export_model(int argc, char **argv)
{
    enum { O_DTYPE = 256, O_SEED, O_PROMPT, O_CHECK };
    static const struct option opts[] = {{"dtype", required_argument, 0, O_DTYPE},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"prompt-tokens", required_argument, 0, O_PROMPT},
                                         {"check", required_argument, 0, O_CHECK},
                                         {"output", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct jb_llm_export_opts eo = {.dtype = JB_LLM_F32, .seed = 1, .prompt_tokens = 8};
    const char *check_path = NULL;
    char *end;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(export_usage, stdout);
            return 0;
        case 'o':
            eo.gguf_path = optarg;
            break;
        case O_CHECK:
            check_path = optarg;
            break;
        case O_DTYPE: {
            int d = jb_llm_dtype_parse(optarg);
            if (d != JB_LLM_F32 && d != JB_LLM_BF16 && d != JB_LLM_Q8_0 && d != JB_LLM_Q4_0) {
                fprintf(stderr,
                        "joulebench export-model: --dtype %s: expected fp32, bf16, "
                        "q8_0 or q4_0\n",
                        optarg);
                return 2;
            }
            eo.dtype = (enum jb_llm_dtype)d;
            break;
        }
        case O_SEED:
            eo.seed = strtoull(optarg, &end, 10);
            if (*end || end == optarg) {
                fprintf(stderr, "joulebench export-model: --seed %s: expected an integer\n",
                        optarg);
                return 2;
            }
            break;
        case O_PROMPT: {
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 1 || v > 4096) {
                fprintf(stderr,
                        "joulebench export-model: --prompt-tokens %s: expected 1 to "
                        "4096\n",
                        optarg);
                return 2;
            }
            eo.prompt_tokens = (int)v;
            break;
        }
        default:
            fputs(export_usage, stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || !eo.gguf_path) {
        fputs(export_usage, stderr);
        return 2;
    }
    eo.config = argv[optind];
    if (!jb_llm_config_find(eo.config)) {
        fprintf(stderr,
                "joulebench export-model: '%s' is not an LLM workload (TinyML models "
                "cannot be exported yet; see --help)\n",
                eo.config);
        return 2;
    }
    char def_check[4200], err[JB_ERRLEN];
    if (!check_path) {
        snprintf(def_check, sizeof(def_check), "%s.check.json", eo.gguf_path);
        check_path = def_check;
    }
    json_t *check = NULL;
    int rc = jb_llm_export(&eo, &check, err, sizeof(err));
    if (!rc)
        rc = jb_json_write_atomic(check_path, check, err, sizeof(err));
    json_decref(check);
    if (rc) {
        fprintf(stderr, "joulebench export-model: %s\n", err);
        return rc == JB_ERANGE || rc == JB_EINVAL ? 2 : 1;
    }
    printf("%s: %s %s weights (seed %llu) as GGUF\n%s: prompt of %d tokens and the oracle's "
           "logits after it\n",
           eo.gguf_path, eo.config, jb_llm_dtype_name(eo.dtype), (unsigned long long)eo.seed,
           check_path, eo.prompt_tokens);
    return 0;
}
