// api_check.cpp: checks the C++ wrapper penguin.hpp (run by .ci/consumers.sh,
// compiled as C++14 and as C++20). Prints one line per failed check and
// "api_check (C++NN): N checks, 0 failed"; exits non-zero on a failure.
#include "penguin.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

static_assert(!std::is_copy_constructible<penguin::Engine>::value, "Engine is move-only");
static_assert(!std::is_copy_assignable<penguin::Engine>::value, "Engine is move-only");
static_assert(std::is_nothrow_move_constructible<penguin::Engine>::value, "Engine moves");
static_assert(std::is_nothrow_move_assignable<penguin::Engine>::value, "Engine moves");
static_assert(!std::is_copy_constructible<penguin::Config>::value, "Config is move-only");
static_assert(std::is_nothrow_move_constructible<penguin::Config>::value, "Config moves");
static_assert(std::is_base_of<std::runtime_error, penguin::Error>::value, "Error");
static_assert(std::is_same<penguin::Status, penguin_nn_status_t>::value, "Status");

static int checks = 0, failures = 0;

static void expect(bool ok, const std::string &what) {
    checks++;
    if (!ok) {
        failures++;
        std::printf("FAILED: %s\n", what.c_str());
    }
}

// Runs f, which must throw penguin::Error with `code`.
template <typename F> static void expect_error(penguin_result_t code, const std::string &what, F f) {
    try {
        f();
        expect(false, what + ": no exception");
    } catch (const penguin::Error &e) {
        expect(e.code() == code, what + ": code " + std::to_string(e.code()) + " (" + e.what() + ")");
        expect(std::string(e.what()).size() > 0, what + ": has a message");
    }
}

static double curve(int net, int k) { return 88.0 - (70.0 + net) * std::exp(-0.25 * k); }

static bool same(const penguin::Status &a, const penguin::Status &b) {
    bool s = a.state == b.state && a.observations == b.observations && a.epoch == b.epoch &&
             a.fits == b.fits && a.n_params == b.n_params;
    s = s && ((std::isnan(a.prediction) && std::isnan(b.prediction)) || a.prediction == b.prediction);
    for (std::uint32_t i = 0; s && i < a.n_params && i < PENGUIN_MAX_PARAMS; i++)
        s = a.params[i] == b.params[i];
    return s;
}

int main() {
    expect(penguin::version_number() == PENGUIN_VERSION_NUMBER, "library version = header version");
    expect(!penguin::version().empty(), "version()");
    expect(penguin::result_string(PENGUIN_ERROR_IO).size() > 0, "result_string()");

    // Config: typed set(), errors as exceptions.
    penguin::Config config;
    config.set("e_pred", 20).set("t", 0.5).set("function", "exp3").set("N", std::string("3"));
    expect_error(PENGUIN_ERROR_UNKNOWN_CONFIG_KEY, "unknown key", [&] { config.set("no_such_key", 1); });
    try {
        config.set("no_such_key", 1);
    } catch (const penguin::Error &e) {
        expect(std::string(e.what()).find("no_such_key") != std::string::npos, "message names the key");
    }
    expect_error(PENGUIN_ERROR_INVALID_CONFIG_VALUE, "invalid value", [&] { config.set("E", "abc"); });
    expect_error(PENGUIN_ERROR_IO, "missing config file", [&] { config.load("/nonexistent/x.conf"); });

    // Engine: observe returns the status; stopped() says when to stop.
    penguin::Engine engine(config);
    penguin::Status st{};
    int k = 1;
    for (; k <= 40; k++) {
        st = engine.observe(7, 0.5 * k, curve(0, k));
        if (penguin::stopped(st)) break;
    }
    expect(penguin::state(st) == penguin::State::Converged, "a smooth curve converges");
    expect(st.observations == static_cast<std::uint32_t>(k) && st.epoch == 0.5 * k, "observations, epoch");
    expect(std::fabs(st.prediction - curve(0, 40)) < 2.0, "prediction near the value at e_pred");
    expect(std::string(penguin::state_name(st)) == "converged", "state_name");
    expect(same(engine.status(7), st), "status() repeats the last status");
    expect_error(PENGUIN_ERROR_ALREADY_DECIDED, "decided network", [&] { engine.observe(7, 30, 50); });
    expect_error(PENGUIN_ERROR_INVALID_EPOCH, "negative epoch", [&] { engine.observe(8, -1, 50); });
    expect_error(PENGUIN_ERROR_INVALID_FITNESS, "NaN fitness", [&] { engine.observe(8, 1, NAN); });
    expect(engine.network_count() == 1, "a rejected call adds no network");
    engine.observe(8, 1, 50);
    expect(engine.network_count() == 2, "network_count()");
    engine.forget(8);
    expect_error(PENGUIN_ERROR_UNKNOWN_NETWORK, "forgotten network", [&] { engine.status(8); });

    // Move-only ownership: a moved-from engine holds nothing and throws.
    penguin::Engine moved(std::move(engine));
    expect(moved.network_count() == 1, "the moved-to engine has the networks");
    expect(engine.get() == nullptr, "the moved-from engine is empty");
    expect_error(PENGUIN_ERROR_NULL_ARGUMENT, "moved-from engine", [&] { engine.network_count(); });
    engine = std::move(moved);
    expect(engine.network_count() == 1, "move assignment");

    // Batch: pointer + size, and std::span (C++20), equal to observe one by one.
    {
        penguin::Engine one, by_pointer;
        const std::vector<std::uint64_t> ids = {101, 102, 103, 104};
        bool all_same = true;
        for (int step = 1; step <= 8; step++) {
            std::vector<double> epochs(ids.size(), 0.5 * step), fitness;
            std::vector<penguin::Status> ref;
            for (std::size_t i = 0; i < ids.size(); i++) {
                fitness.push_back(curve(5 * static_cast<int>(i), step));
                ref.push_back(one.observe(ids[i], epochs[i], fitness[i]));
            }
            auto st_ptr = by_pointer.observe_batch(ids.data(), epochs.data(), fitness.data(), ids.size());
            for (std::size_t i = 0; i < ids.size(); i++) all_same = all_same && same(st_ptr[i], ref[i]);
            bool stop = false;
            for (const auto &s : ref) stop = stop || penguin::stopped(s);
            if (stop) break;
        }
        expect(all_same, "observe_batch (pointer + size) = observe");
        const std::size_t before = by_pointer.network_count();
        const std::uint64_t two[2] = {201, 202};
        const double bad_epoch[2] = {1, -1};
        const double fit[2] = {50, 50};
        expect_error(PENGUIN_ERROR_INVALID_EPOCH, "batch with a bad entry",
                     [&] { by_pointer.observe_batch(two, bad_epoch, fit, 2, nullptr); });
        expect(by_pointer.network_count() == before, "a rejected batch changes nothing");
        expect(by_pointer.observe_batch(nullptr, nullptr, nullptr, 0).empty(), "empty batch");
#ifdef PENGUIN_HPP_HAS_SPAN
        penguin::Engine by_span, ref_engine;
        all_same = true;
        for (int step = 1; step <= 8; step++) {
            std::vector<double> epochs(ids.size(), 0.5 * step), fitness;
            std::vector<penguin::Status> ref;
            for (std::size_t i = 0; i < ids.size(); i++) {
                fitness.push_back(curve(5 * static_cast<int>(i), step));
                ref.push_back(ref_engine.observe(ids[i], epochs[i], fitness[i]));
            }
            std::vector<penguin::Status> out(ids.size());
            by_span.observe_batch(std::span<const std::uint64_t>(ids), epochs, fitness, out);
            bool stop = false;
            for (std::size_t i = 0; i < ids.size(); i++) {
                all_same = all_same && same(out[i], ref[i]);
                stop = stop || penguin::stopped(ref[i]);
            }
            if (stop) break;
        }
        expect(all_same, "observe_batch (std::span) = observe");
        std::vector<double> short_epochs(2, 50.0), fitness4(4, 50.0);
        expect_error(PENGUIN_ERROR_INVALID_ARGUMENT, "spans of different lengths",
                     [&] { by_span.observe_batch(ids, short_epochs, fitness4); });
        std::printf("# std::span overload checked\n");
#endif
    }

    // Checkpoints: file and memory.
    {
        penguin::Engine a;
        for (int j = 1; j <= 3; j++) a.observe(1, 0.5 * j, curve(2, j));
        a.save("api_check_cpp.state");
        penguin::Engine b = penguin::Engine::load("api_check_cpp.state");
        std::remove("api_check_cpp.state");
        const std::vector<std::uint8_t> bytes = a.save_to_buffer();
        penguin::Engine c = penguin::Engine::load_from_buffer(bytes);
        bool all_same = true;
        for (int j = 4; j <= 40; j++) {
            auto sa = a.observe(1, 0.5 * j, curve(2, j));
            all_same = all_same && same(sa, b.observe(1, 0.5 * j, curve(2, j))) &&
                       same(sa, c.observe(1, 0.5 * j, curve(2, j)));
            if (penguin::stopped(sa)) break;
        }
        expect(all_same, "restored engines decide as the original");
        std::vector<std::uint8_t> corrupt = bytes;
        corrupt[0] ^= 0xff;
        expect_error(PENGUIN_ERROR_INVALID_STATE, "corrupt state",
                     [&] { penguin::Engine::load_from_buffer(corrupt); });
        expect_error(PENGUIN_ERROR_IO, "missing state file",
                     [&] { penguin::Engine::load("/nonexistent/x.state"); });
    }

    std::printf("api_check (C++%ld): %d checks, %d failed\n", static_cast<long>(__cplusplus / 100 % 100),
                checks, failures);
    return failures == 0 ? 0 : 1;
}
