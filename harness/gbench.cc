// gbench.cc: the C interface to Google Benchmark declared in gbench.h. The
// project's only C++: it adapts benchmark::State and the reporter interface,
// and nothing else.
#include "harness/gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

extern "C" {
#include "base/error.h"
}

namespace {

// The reporter that hands runs back to C. It prints nothing: joulebench
// prints its own table from the records.
class CallbackReporter : public benchmark::BenchmarkReporter {
  public:
    CallbackReporter(jb_gb_report_fn fn, void *ctx) : fn_(fn), ctx_(ctx) {}

    bool ReportContext(const Context &) override { return true; }

    void ReportRuns(const std::vector<Run> &report) override
    {
        std::vector<jb_gb_run> runs(report.size());
        std::vector<std::string> names(report.size());
        std::vector<std::vector<jb_gb_counter>> counters(report.size());
        for (size_t i = 0; i < report.size(); i++) {
            const Run &r = report[i];
            names[i] = r.benchmark_name();
            jb_gb_run &c = runs[i];
            c.name = names[i].c_str();
            c.is_aggregate = r.run_type == Run::RT_Aggregate;
            c.aggregate_name = r.aggregate_name.c_str();
            c.iterations = r.iterations;
            c.repetition_index = r.repetition_index;
            c.repetitions = r.repetitions;
            double mult = benchmark::GetTimeUnitMultiplier(r.time_unit);
            c.real_time_s = r.GetAdjustedRealTime() / mult;
            c.cpu_time_s = r.GetAdjustedCPUTime() / mult;
            c.error_occurred = r.error_occurred;
            c.error_message = r.error_message.c_str();
            for (const auto &kv : r.counters)
                counters[i].push_back(jb_gb_counter{kv.first.c_str(), kv.second.value});
            c.ncounters = static_cast<int>(counters[i].size());
            c.counters = counters[i].empty() ? nullptr : counters[i].data();
        }
        if (fn_)
            fn_(runs.data(), static_cast<int>(runs.size()), ctx_);
    }

  private:
    jb_gb_report_fn fn_;
    void *ctx_;
};

benchmark::State &S(jb_gb_state *st)
{
    return *reinterpret_cast<benchmark::State *>(st);
}

} // namespace

extern "C" int jb_gb_register(const char *name, jb_gb_fn fn, void *arg,
                              const jb_gb_options *o)
{
    if (!name || !*name || !fn)
        return JB_EINVAL;
    auto *b = benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
        fn(reinterpret_cast<jb_gb_state *>(&st), arg);
    });
    if (!b)
        return JB_EINVAL;
    // Google Benchmark's default unit: its compare.py prints times as
    // integers of the file's unit, so seconds showed as 0.
    b->Unit(benchmark::kNanosecond);
    if (o) {
        if (o->min_time_s > 0)
            b->MinTime(o->min_time_s);
        if (o->min_warmup_s > 0)
            b->MinWarmUpTime(o->min_warmup_s);
        if (o->repetitions > 1)
            b->Repetitions(o->repetitions);
        if (o->manual_time)
            b->UseManualTime();
        else if (o->real_time)
            b->UseRealTime();
    }
    return JB_OK;
}

extern "C" int jb_gb_keep_running(jb_gb_state *st)
{
    return S(st).KeepRunning() ? 1 : 0;
}

extern "C" void jb_gb_set_iteration_time(jb_gb_state *st, double seconds)
{
    S(st).SetIterationTime(seconds);
}

extern "C" void jb_gb_skip_with_error(jb_gb_state *st, const char *message)
{
    S(st).SkipWithError(message ? message : "error");
}

extern "C" void jb_gb_set_counter(jb_gb_state *st, const char *name, double value,
                                  jb_gb_counter_flag flag)
{
    benchmark::Counter::Flags f = benchmark::Counter::kDefaults;
    if (flag == JB_GB_COUNTER_RATE)
        f = benchmark::Counter::kIsRate;
    else if (flag == JB_GB_COUNTER_AVG_ITERATIONS)
        f = benchmark::Counter::kAvgIterations;
    S(st).counters[name] = benchmark::Counter(value, f);
}

extern "C" int64_t jb_gb_max_iterations(const jb_gb_state *st)
{
    return reinterpret_cast<const benchmark::State *>(st)->max_iterations;
}

extern "C" void jb_gb_add_context(const char *key, const char *value)
{
    benchmark::AddCustomContext(key, value);
}

extern "C" int jb_gb_run_all(const char *json_path, jb_gb_report_fn report, void *ctx,
                             char *err, size_t errlen)
{
    // Google Benchmark opens its file reporter's output itself from the
    // --benchmark_out flag; Initialize is how that flag is set. It is safe to
    // call more than once in a process.
    std::string out_flag, prog = "joulebench";
    std::vector<char *> argv;
    argv.push_back(&prog[0]);
    std::string fmt_flag = "--benchmark_out_format=json";
    if (json_path) {
        FILE *f = std::fopen(json_path, "w");
        if (!f)
            return jb_err(err, errlen, JB_EIO, "--gbench-json: cannot write %s", json_path);
        std::fclose(f);
    }
    // An empty --benchmark_out= clears a path left by an earlier call.
    out_flag = std::string("--benchmark_out=") + (json_path ? json_path : "");
    argv.push_back(&out_flag[0]);
    argv.push_back(&fmt_flag[0]);
    argv.push_back(nullptr);
    int argc = static_cast<int>(argv.size()) - 1;
    benchmark::Initialize(&argc, argv.data());
    CallbackReporter display(report, ctx);
    benchmark::RunSpecifiedBenchmarks(&display);
    benchmark::ClearRegisteredBenchmarks();
    return JB_OK;
}
