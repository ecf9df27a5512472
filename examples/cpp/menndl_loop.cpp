// menndl_loop.cpp: Penguin in a MENNDL-style NAS loop, through the C++
// wrapper penguin.hpp.
//
// A NAS code proposes networks and trains them in turn; every half epoch the
// training loop validates the network and reports the fitness to Penguin,
// and stops training as soon as Penguin says so, freeing the node for the
// next network. Here the "training" replays recorded learning curves
// (tests/data/fmnist_random_cnn.csv: 127 random CNNs on Fashion-MNIST,
// validated every half epoch up to epoch 20).
//
//   menndl_loop CURVES.csv [sequential|batch]
//
// sequential: networks are trained one after the other (one node).
// batch:      a generation is trained side by side (one network per node);
//             every half epoch the master reports all validations at once
//             with Engine::observe_batch. Same decisions as sequential.
// Output, one line per network (the format of examples/penguin_curves.c):
//   <id> <model_id> <state> <stop_epoch> <prediction> <observations>
// then comment lines (#) with the epochs Penguin saved.
#include "penguin.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

// One network's recorded validations, in epoch order.
struct Curve {
    std::string name;
    std::vector<double> epochs, val_acc;
};

std::vector<std::string> split(const std::string &line) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, ',')) fields.push_back(f);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    return fields;
}

double number(const std::string &s) {
    try {
        return std::stod(s);
    } catch (...) {
        return NAN;
    }
}

std::vector<Curve> read_curves(const std::string &path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path);
    std::string line;
    std::getline(in, line);
    auto header = split(line);
    auto col = [&](const std::string &name) {
        for (std::size_t i = 0; i < header.size(); i++)
            if (header[i] == name) return i;
        throw std::runtime_error(path + ": needs a column " + name);
    };
    const std::size_t c_id = col("model_id"), c_ep = col("epoch"), c_v = col("val_acc");
    std::vector<Curve> curves;
    while (std::getline(in, line)) {
        auto f = split(line);
        if (f.size() <= c_id || f.size() <= c_ep || f.size() <= c_v) continue;
        if (curves.empty() || curves.back().name != f[c_id]) curves.push_back({f[c_id], {}, {}});
        curves.back().epochs.push_back(number(f[c_ep]));
        curves.back().val_acc.push_back(number(f[c_v]));
    }
    return curves;
}

// Stands in for a network being trained: each call trains half an epoch and
// validates (here: the next recorded validation).
class Training {
  public:
    explicit Training(const Curve &c) : curve_(&c) {}
    bool finished() const { return next_ >= curve_->epochs.size(); }
    // Trains until the next validation; returns its epoch and fitness.
    std::pair<double, double> train_half_epoch() {
        const std::size_t i = next_++;
        return {curve_->epochs[i], curve_->val_acc[i]};
    }

  private:
    const Curve *curve_;
    std::size_t next_ = 0;
};

struct Outcome {
    bool reported = false;
    penguin::Status status{};
};

void print(std::size_t id, const Curve &c, const Outcome &o) {
    if (!o.reported) return;
    std::printf("%zu %s %s %.17g %.17g %u\n", id, c.name.c_str(), penguin::state_name(o.status),
                o.status.epoch, o.status.prediction, o.status.observations);
}

// One node: networks trained one after the other.
std::vector<Outcome> sequential(penguin::Engine &engine, const std::vector<Curve> &curves) {
    std::vector<Outcome> out(curves.size());
    for (std::size_t id = 0; id < curves.size(); id++) {
        Training training(curves[id]);
        while (!training.finished()) {
            auto [epoch, val_acc] = training.train_half_epoch();
            if (!std::isfinite(val_acc)) continue; // a diverged validation: not reported
            out[id].status = engine.observe(id, epoch, val_acc);
            out[id].reported = true;
            if (penguin::stopped(out[id].status)) break; // Penguin says stop: next network
        }
    }
    return out;
}

// One node per network: every half epoch, one batch of validations.
std::vector<Outcome> side_by_side(penguin::Engine &engine, const std::vector<Curve> &curves) {
    std::vector<Outcome> out(curves.size());
    std::vector<Training> training;
    for (const auto &c : curves) training.emplace_back(c);
    std::vector<bool> running(curves.size(), true);
    for (;;) {
        std::vector<std::uint64_t> ids;
        std::vector<double> epochs, fitness;
        bool any = false;
        for (std::size_t id = 0; id < curves.size(); id++) {
            if (!running[id]) continue;
            if (training[id].finished()) {
                running[id] = false;
                continue;
            }
            any = true;
            auto [epoch, val_acc] = training[id].train_half_epoch();
            if (!std::isfinite(val_acc)) continue;
            ids.push_back(id);
            epochs.push_back(epoch);
            fitness.push_back(val_acc);
        }
        if (!any) break;
        const std::vector<penguin::Status> st = engine.observe_batch(ids, epochs, fitness);
        for (std::size_t i = 0; i < ids.size(); i++) {
            out[ids[i]].status = st[i];
            out[ids[i]].reported = true;
            if (penguin::stopped(st[i])) running[ids[i]] = false; // free the node
        }
    }
    return out;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CURVES.csv [sequential|batch]\n", argv[0]);
        return 2;
    }
    const std::string mode = argc > 2 ? argv[2] : "sequential";
    try {
        const auto curves = read_curves(argv[1]);

        penguin::Config config; // the paper's case study: exp3, N = 3, t = 0.5
        config.set("e_pred", 20).set("E", 0.5);
        penguin::Engine engine(config);

        const auto outcome =
            mode == "batch" ? side_by_side(engine, curves) : sequential(engine, curves);

        double trained = 0, full = 0;
        for (std::size_t id = 0; id < curves.size(); id++) {
            print(id, curves[id], outcome[id]);
            if (outcome[id].reported) trained += outcome[id].status.epoch;
            full += 20;
        }
        std::printf("# %s: %zu networks trained %.1f epochs instead of %.0f (%.1f %% saved)\n",
                    mode.c_str(), curves.size(), trained, full, 100 * (1 - trained / full));

        // Errors are exceptions carrying the C code and the message.
        try {
            engine.observe(0, -1.0, 50.0);
        } catch (const penguin::Error &e) {
            std::printf("# rejected as expected: code %d: %s\n", e.code(), e.what());
        }
    } catch (const penguin::Error &e) {
        std::fprintf(stderr, "penguin error %d: %s\n", e.code(), e.what());
        return 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
