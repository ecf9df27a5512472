// api_check.cpp: checks the C++ wrapper penguin.hpp (run by .ci/consumers.sh,
// compiled as C++14 and as C++20). Prints one line per failed check and
// "api_check (C++NN): N checks, 0 failed"; exits non-zero on a failure.
#include "penguin.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
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

    // User-defined functions: a hand-written exp3 (written as the built-in
    // computes it) decides as the built-in one; the callables outlive the Config.
    {
        int calls = 0;
        auto exp3 = [&calls](std::size_t n, const double *x, const double *p, double *y) {
            calls++; // threads = 1 below: no concurrent calls
            const double lb = std::log(p[1]);
            for (std::size_t i = 0; i < n; i++) y[i] = p[1] > 0 ? p[0] - std::exp((p[2] - x[i]) * lb) : NAN;
        };
        auto exp3_jacobian = [](std::size_t n, const double *x, const double *p, double *jac) {
            const double lb = std::log(p[1]);
            for (std::size_t i = 0; i < n; i++) {
                const double pw = std::exp((p[2] - x[i]) * lb);
                jac[3 * i] = 1.0;
                jac[3 * i + 1] = -(p[2] - x[i]) * pw / p[1];
                jac[3 * i + 2] = -pw * lb;
            }
        };
        auto settings = [](penguin::Config &c) {
            c.set("bounds", "0.5,1,0;200,inf,inf").set("p0", "10,1.001,100").set("solver", "trf");
            c.set("threads", 1);
        };
        penguin::Engine builtin, user;
        penguin::Config functions;
        {
            penguin::Config cb, cu;
            settings(cb);
            settings(cu);
            cb.set("function", "exp3");
            cu.set_function("my_exp3", 3, exp3, exp3_jacobian, {10, 1.001, 100});
            builtin = penguin::Engine(cb);
            user = penguin::Engine(cu);
            functions = std::move(cu);
        }
        bool all_same = true;
        for (int net = 0; net < 6; net++) {
            for (int j = 1; j <= 40; j++) {
                const double v = curve(7 * net, j) + 0.8 * std::sin(1.7 * j + net);
                const auto a = builtin.observe(net, 0.5 * j, v), b = user.observe(net, 0.5 * j, v);
                all_same = all_same && same(a, b);
                if (penguin::stopped(a)) break;
            }
        }
        expect(calls > 0, "the user-defined function was called");
        expect(all_same, "user-defined exp3 decides as the built-in exp3");
        const auto bytes = user.save_to_buffer();
        expect_error(PENGUIN_ERROR_UNKNOWN_FUNCTION, "load without the function",
                     [&] { penguin::Engine::load_from_buffer(bytes); });
        penguin::Engine restored = penguin::Engine::load_from_buffer(bytes, functions);
        functions = penguin::Config(); // the restored engine keeps the callables alive
        expect(restored.network_count() == 6, "load_from_buffer with the function registered");
        user.save("api_check_cpp_user.state");
        penguin::Config again;
        again.set_function("my_exp3", 3, exp3, exp3_jacobian);
        penguin::Engine from_file = penguin::Engine::load("api_check_cpp_user.state", again);
        std::remove("api_check_cpp_user.state");
        const int before = calls;
        const auto st7 = from_file.observe(7, 0.5, 20.0);
        for (int j = 2; j <= 8; j++) from_file.observe(7, 0.5 * j, curve(1, j));
        expect(st7.observations == 1 && calls > before, "a loaded engine calls the function");

        // An exception thrown by a callback makes that fit fail; it never
        // reaches the library or the caller.
        penguin::Config ct;
        ct.set_function("thrower", 3, [](std::size_t, const double *, const double *, double *) {
            throw std::runtime_error("boom");
        });
        penguin::Engine et(ct);
        bool no_prediction = true;
        for (int j = 1; j <= 10; j++) no_prediction = no_prediction && std::isnan(et.observe(1, 0.5 * j, curve(0, j)).fit_prediction);
        expect(no_prediction, "a throwing callback gives failed fits, not an exception");

        penguin::Config bad;
        expect_error(PENGUIN_ERROR_INVALID_ARGUMENT, "p0 of the wrong length",
                     [&] { bad.set_function("f", 3, exp3, nullptr, {1.0, 2.0}); });
        expect_error(PENGUIN_ERROR_INVALID_ARGUMENT, "a built-in name",
                     [&] { bad.set_function("exp3", 3, exp3); });
        expect_error(PENGUIN_ERROR_NULL_ARGUMENT, "an empty std::function",
                     [&] { bad.set_function("g", 3, nullptr); });
    }

    std::printf("api_check (C++%ld): %d checks, %d failed\n", static_cast<long>(__cplusplus / 100 % 100),
                checks, failures);
    return failures == 0 ? 0 : 1;
}
