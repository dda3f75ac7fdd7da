// armnn_oracle.cpp: runs a TFLite file with Arm NN's reference back-end
// (CpuRef), the independent runtime the TinyML tests compare joulebench
// with (tests/test_tflite_armnn.c). Arm NN has its own TFLite parser and
// its own kernels, so agreement checks joulebench's reader and arithmetic
// against code that shares nothing with them.
//
// Usage: armnn_oracle MODEL.tflite INPUTS OUTPUTS
// INPUTS holds N items back to back, each the model's inputs in subgraph
// order, raw, in their types; OUTPUTS gets the N outputs the same way.
// Exit 0, or 1 with a message.
// Built only when Debian's libarmnntfliteparser-dev is installed.
#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#ifndef JB_ARMNN_BACKENDS
#define JB_ARMNN_BACKENDS ""
#endif

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::cerr << "usage: armnn_oracle MODEL.tflite INPUTS OUTPUTS\n";
        return 2;
    }
    try {
        auto parser = armnnTfLiteParser::ITfLiteParser::Create();
        armnn::INetworkPtr net = parser->CreateNetworkFromBinaryFile(argv[1]);
        auto in_names = parser->GetSubgraphInputTensorNames(0);
        auto out_names = parser->GetSubgraphOutputTensorNames(0);
        if (in_names.empty() || out_names.size() != 1) {
            std::cerr << "armnn_oracle: inputs and one output expected\n";
            return 1;
        }
        std::vector<armnn::BindingPointInfo> in_bind;
        size_t in_bytes = 0;
        for (const auto &nm : in_names) {
            in_bind.push_back(parser->GetNetworkInputBindingInfo(0, nm));
            in_bytes += in_bind.back().second.GetNumBytes();
        }
        auto out_bind = parser->GetNetworkOutputBindingInfo(0, out_names[0]);
        armnn::IRuntime::CreationOptions opts;
        opts.m_DynamicBackendsPath = JB_ARMNN_BACKENDS;
        armnn::IRuntimePtr rt = armnn::IRuntime::Create(opts);
        armnn::IOptimizedNetworkPtr opt =
            armnn::Optimize(*net, {armnn::Compute::CpuRef}, rt->GetDeviceSpec());
        if (!opt) {
            std::cerr << "armnn_oracle: the CpuRef back-end cannot run " << argv[1] << "\n";
            return 1;
        }
        armnn::NetworkId id;
        std::string msg;
        if (rt->LoadNetwork(id, std::move(opt), msg) != armnn::Status::Success) {
            std::cerr << "armnn_oracle: LoadNetwork: " << msg << "\n";
            return 1;
        }
        std::ifstream fin(argv[2], std::ios::binary);
        std::vector<char> inputs((std::istreambuf_iterator<char>(fin)),
                                 std::istreambuf_iterator<char>());
        size_t out_bytes = out_bind.second.GetNumBytes();
        if (!in_bytes || inputs.size() % in_bytes) {
            std::cerr << "armnn_oracle: " << argv[2] << ": not a whole number of " << in_bytes
                      << "-byte items\n";
            return 1;
        }
        size_t n = inputs.size() / in_bytes;
        std::vector<char> outputs(n * out_bytes);
        for (size_t i = 0; i < n; i++) {
            armnn::InputTensors in;
            size_t at = i * in_bytes;
            for (const auto &b : in_bind) {
                in.push_back({b.first, armnn::ConstTensor(b.second, inputs.data() + at)});
                at += b.second.GetNumBytes();
            }
            armnn::OutputTensors out{
                {out_bind.first, armnn::Tensor(out_bind.second, outputs.data() + i * out_bytes)}};
            if (rt->EnqueueWorkload(id, in, out) != armnn::Status::Success) {
                std::cerr << "armnn_oracle: EnqueueWorkload failed\n";
                return 1;
            }
        }
        std::ofstream fout(argv[3], std::ios::binary);
        fout.write(outputs.data(), (std::streamsize)outputs.size());
        return fout ? 0 : 1;
    } catch (const std::exception &e) {
        std::cerr << "armnn_oracle: " << e.what() << "\n";
        return 1;
    }
}
