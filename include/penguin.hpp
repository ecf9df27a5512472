/*
 * penguin.hpp: header-only C++ wrapper of Penguin's C API (penguin.h).
 *
 *   penguin::Config config;                 // the paper's defaults
 *   config.set("e_pred", 20);
 *   penguin::Engine engine(config);         // owns a penguin_t, freed by ~Engine
 *   penguin::Status st = engine.observe(id, epoch, val_acc);
 *   if (penguin::stopped(st)) { ... }       // st.prediction: fitness at e_pred
 *
 * Every failing call throws penguin::Error (a std::runtime_error) carrying the
 * C status code (code()) and the library's message (what()). Engine and Config
 * are move-only; a moved-from object holds no handle and every call on it
 * throws (PENGUIN_ERROR_NULL_ARGUMENT). User-defined functions
 * (Config::set_function) are std::functions kept alive by the Config and the
 * engines made from it; an exception they throw makes that fit fail.
 *
 * Thread-safety is the C API's: one Engine must not be used by two threads at
 * once (status() and network_count() may run concurrently with each other);
 * different engines are independent.
 *
 * Needs C++14; the std::span overload of observe_batch needs C++20.
 * Link with libpenguin (CMake: Penguin::penguin or Penguin::penguin_static).
 */
#ifndef PENGUIN_HPP
#define PENGUIN_HPP

#include "penguin.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__cplusplus) && __cplusplus >= 202002L && defined(__has_include)
#if __has_include(<span>)
#include <span>
#define PENGUIN_HPP_HAS_SPAN 1
#endif
#endif

namespace penguin {

/** What Penguin says about one network (the C struct penguin_nn_status_t). */
using Status = penguin_nn_status_t;

/** The three states of Status::state. */
enum class State : std::int32_t {
    Continue = PENGUIN_CONTINUE,
    Converged = PENGUIN_CONVERGED,
    ReachedEPred = PENGUIN_REACHED_E_PRED,
};

/** The state of a status as an enum. */
inline State state(const Status &s) noexcept { return static_cast<State>(s.state); }

/** True when Penguin says: stop training this network. */
inline bool stopped(const Status &s) noexcept { return s.state != PENGUIN_CONTINUE; }

/** "continue", "converged" or "reached_e_pred". */
inline const char *state_name(const Status &s) noexcept {
    switch (s.state) {
    case PENGUIN_CONTINUE: return "continue";
    case PENGUIN_CONVERGED: return "converged";
    case PENGUIN_REACHED_E_PRED: return "reached_e_pred";
    default: return "unknown";
    }
}

/** A failed Penguin call: code() is the C status code, what() the message. */
class Error : public std::runtime_error {
  public:
    Error(penguin_result_t code, const std::string &message)
        : std::runtime_error(message), code_(code) {}
    /** The PENGUIN_ERROR_* code. */
    penguin_result_t code() const noexcept { return code_; }

  private:
    penguin_result_t code_;
};

/** The library's version string, e.g. "0.2.0" (may differ from the header's). */
inline std::string version() { return penguin_version(); }

/** The library's version number; compare with PENGUIN_VERSION_NUMBER. */
inline std::uint32_t version_number() noexcept { return penguin_version_number(); }

/** A static description of a status code. */
inline std::string result_string(penguin_result_t code) { return penguin_result_string(code); }

/** The calling thread's last error message (empty after a successful call). */
inline std::string last_error_message() {
    const std::size_t n = penguin_last_error_message(nullptr, 0);
    std::vector<char> buf(n + 1, '\0');
    penguin_last_error_message(buf.data(), buf.size());
    return std::string(buf.data(), n);
}

/**
 * A user-defined parametric function (Config::set_function): fills
 * y_out[i] = f(x[i]; params) for i < n. Throwing any exception makes that fit
 * fail (the network keeps training); the exception does not propagate.
 */
using ModelFunction =
    std::function<void(std::size_t n, const double *x, const double *params, double *y_out)>;
/**
 * Its Jacobian: jac_out[i * n_params + j] = d f(x[i]) / d params[j] (row-major
 * n x n_params). Same rule for exceptions.
 */
using JacobianFunction =
    std::function<void(std::size_t n, const double *x, const double *params, double *jac_out)>;

namespace detail {
/** Throws penguin::Error unless rc is PENGUIN_OK. */
inline void check(penguin_result_t rc) {
    if (rc == PENGUIN_OK) return;
    std::string message = last_error_message();
    if (message.empty()) message = penguin_result_string(rc);
    throw Error(rc, message);
}

inline std::string to_value(const std::string &v) { return v; }
inline std::string to_value(const char *v) { return v; }
template <typename T>
typename std::enable_if<std::is_integral<T>::value && !std::is_same<T, bool>::value,
                        std::string>::type
to_value(T v) {
    return std::to_string(v);
}
template <typename T>
typename std::enable_if<std::is_floating_point<T>::value, std::string>::type to_value(T v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", static_cast<double>(v));
    return buf;
}

/** The callables behind one registered user-defined function. */
struct UserFunction {
    ModelFunction value;
    JacobianFunction jacobian;
};
/** Shared by a Config and every Engine made from it: the C library keeps
 * pointers to them (user_data) as long as any of those exists. */
using UserFunctions = std::vector<std::shared_ptr<const UserFunction>>;

// C callbacks: no exception may cross into the library.
inline int model_trampoline(void *user, std::size_t n, const double *x, const double *params,
                            double *y_out) noexcept {
    try {
        static_cast<const UserFunction *>(user)->value(n, x, params, y_out);
        return 0;
    } catch (...) {
        return 1;
    }
}
inline int jacobian_trampoline(void *user, std::size_t n, const double *x, const double *params,
                               double *jac_out) noexcept {
    try {
        static_cast<const UserFunction *>(user)->jacobian(n, x, params, jac_out);
        return 0;
    } catch (...) {
        return 1;
    }
}
} // namespace detail

/** A configuration (penguin_config_t): the paper's defaults plus set() keys. */
class Config {
  public:
    /** The paper's defaults. */
    Config() { detail::check(penguin_config_new(&config_)); }
    ~Config() { penguin_config_free(config_); }
    Config(const Config &) = delete;
    Config &operator=(const Config &) = delete;
    Config(Config &&other) noexcept
        : config_(other.config_), functions_(std::move(other.functions_)) {
        other.config_ = nullptr;
    }
    Config &operator=(Config &&other) noexcept {
        if (this != &other) {
            penguin_config_free(config_);
            config_ = other.config_;
            other.config_ = nullptr;
            functions_ = std::move(other.functions_);
        }
        return *this;
    }

    /**
     * Sets one key (see penguin_config_set): set("e_pred", 20),
     * set("t", 0.5), set("function", "exp3"). Numbers are passed in full
     * precision. Throws penguin::Error on an unknown key or invalid value.
     */
    template <typename T> Config &set(const std::string &key, const T &value) {
        detail::check(
            penguin_config_set(config_, key.c_str(), detail::to_value(value).c_str()));
        return *this;
    }

    /** Reads `key = value` lines from a file (penguin_config_load). */
    Config &load(const std::string &path) {
        detail::check(penguin_config_load(config_, path.c_str()));
        return *this;
    }

    /**
     * Registers a user-defined parametric function `name` with `n_params`
     * parameters and selects it (penguin_config_set_function). `jacobian`
     * may be empty (finite differences); `p0`, `lower`, `upper` are empty or
     * hold n_params values (infinities allowed in the bounds). The callables
     * are kept alive by this Config and by every Engine made from it. They
     * may be called from the engine's worker threads in observe_batch (make
     * them thread-safe unless `threads` is 1) and must not call the engine.
     */
    Config &set_function(const std::string &name, std::uint32_t n_params, ModelFunction value,
                         JacobianFunction jacobian = nullptr, const std::vector<double> &p0 = {},
                         const std::vector<double> &lower = {},
                         const std::vector<double> &upper = {}) {
        for (const auto *v : {&p0, &lower, &upper})
            if (!v->empty() && v->size() != n_params)
                throw Error(PENGUIN_ERROR_INVALID_ARGUMENT,
                            "set_function: p0, lower and upper need n_params values (or none)");
        const bool has_jacobian = static_cast<bool>(jacobian);
        auto f = std::make_shared<const detail::UserFunction>(
            detail::UserFunction{std::move(value), std::move(jacobian)});
        detail::check(penguin_config_set_function(
            config_, name.c_str(), n_params, f->value ? detail::model_trampoline : nullptr,
            has_jacobian ? detail::jacobian_trampoline : nullptr,
            const_cast<detail::UserFunction *>(f.get()), p0.empty() ? nullptr : p0.data(),
            lower.empty() ? nullptr : lower.data(), upper.empty() ? nullptr : upper.data()));
        functions_.push_back(std::move(f));
        return *this;
    }

    /** The C handle (still owned by this object). */
    const penguin_config_t *get() const noexcept { return config_; }
    penguin_config_t *get() noexcept { return config_; }
    /** The user-defined functions registered here (see set_function). */
    const detail::UserFunctions &functions() const noexcept { return functions_; }

  private:
    penguin_config_t *config_ = nullptr;
    detail::UserFunctions functions_;
};

/** An engine (penguin_t): tracks networks and decides when to stop them. */
class Engine {
  public:
    /** An engine with the paper's defaults. */
    Engine() { detail::check(penguin_new(nullptr, &engine_)); }
    /** An engine with a copy of `config` (and its user-defined functions). */
    explicit Engine(const Config &config) : functions_(config.functions()) {
        detail::check(penguin_new(config.get(), &engine_));
    }
    /** Takes ownership of a handle from the C API (NULL allowed). */
    explicit Engine(penguin_t *engine) noexcept : engine_(engine) {}
    ~Engine() { penguin_free(engine_); }
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;
    Engine(Engine &&other) noexcept
        : engine_(other.engine_), functions_(std::move(other.functions_)) {
        other.engine_ = nullptr;
    }
    Engine &operator=(Engine &&other) noexcept {
        if (this != &other) {
            penguin_free(engine_);
            engine_ = other.engine_;
            other.engine_ = nullptr;
            functions_ = std::move(other.functions_);
        }
        return *this;
    }

    /** Restores an engine saved with save() (penguin_load). */
    static Engine load(const std::string &path) {
        penguin_t *e = nullptr;
        detail::check(penguin_load(path.c_str(), &e));
        return Engine(e);
    }
    /**
     * Restores an engine saved with user-defined functions: those registered
     * in `functions` are available by name (penguin_load_with_config).
     */
    static Engine load(const std::string &path, const Config &functions) {
        penguin_t *e = nullptr;
        detail::check(penguin_load_with_config(path.c_str(), functions.get(), &e));
        Engine engine(e);
        engine.functions_ = functions.functions();
        return engine;
    }
    /** Restores an engine from bytes of save_to_buffer() (penguin_load_from_buffer). */
    static Engine load_from_buffer(const std::uint8_t *data, std::size_t len) {
        penguin_t *e = nullptr;
        detail::check(penguin_load_from_buffer(data, len, &e));
        return Engine(e);
    }
    static Engine load_from_buffer(const std::vector<std::uint8_t> &bytes) {
        return load_from_buffer(bytes.data(), bytes.size());
    }
    /** As load(path, functions), from bytes (penguin_load_from_buffer_with_config). */
    static Engine load_from_buffer(const std::uint8_t *data, std::size_t len,
                                   const Config &functions) {
        penguin_t *e = nullptr;
        detail::check(penguin_load_from_buffer_with_config(data, len, functions.get(), &e));
        Engine engine(e);
        engine.functions_ = functions.functions();
        return engine;
    }
    static Engine load_from_buffer(const std::vector<std::uint8_t> &bytes, const Config &functions) {
        return load_from_buffer(bytes.data(), bytes.size(), functions);
    }

    /**
     * Reports network `id`'s fitness at `epoch` (a new id starts a network)
     * and returns its status; stop training when stopped(status).
     */
    Status observe(std::uint64_t id, double epoch, double fitness) {
        Status st{};
        detail::check(penguin_observe(engine_, id, epoch, fitness, &st));
        return st;
    }

    /**
     * Reports n observations at once (penguin_observe_batch): entry i is
     * network ids[i] at epochs[i] with fitness[i]. `statuses_out` (n entries,
     * or nullptr) receives the status after each entry. All or nothing: on a
     * rejected entry it throws and the engine is unchanged.
     */
    void observe_batch(const std::uint64_t *ids, const double *epochs, const double *fitness,
                       std::size_t n, Status *statuses_out) {
        detail::check(penguin_observe_batch(engine_, n, ids, epochs, fitness, statuses_out));
    }
    /** As above, returning the n statuses. */
    std::vector<Status> observe_batch(const std::uint64_t *ids, const double *epochs,
                                      const double *fitness, std::size_t n) {
        std::vector<Status> out(n);
        observe_batch(ids, epochs, fitness, n, out.data());
        return out;
    }
#ifdef PENGUIN_HPP_HAS_SPAN
    /** std::span version; the spans must have the same length. */
    void observe_batch(std::span<const std::uint64_t> ids, std::span<const double> epochs,
                       std::span<const double> fitness, std::span<Status> statuses_out) {
        if (epochs.size() != ids.size() || fitness.size() != ids.size() ||
            statuses_out.size() != ids.size())
            throw Error(PENGUIN_ERROR_INVALID_ARGUMENT,
                        "observe_batch: ids, epochs, fitness and statuses_out differ in length");
        observe_batch(ids.data(), epochs.data(), fitness.data(), ids.size(),
                      statuses_out.data());
    }
    /** std::span version returning the statuses. */
    std::vector<Status> observe_batch(std::span<const std::uint64_t> ids,
                                      std::span<const double> epochs,
                                      std::span<const double> fitness) {
        std::vector<Status> out(ids.size());
        observe_batch(ids, epochs, fitness, std::span<Status>(out));
        return out;
    }
#endif

    /** The status of network `id` (penguin_status). */
    Status status(std::uint64_t id) const {
        Status st{};
        detail::check(penguin_status(engine_, id, &st));
        return st;
    }

    /** Stops tracking network `id` (penguin_forget). */
    void forget(std::uint64_t id) { detail::check(penguin_forget(engine_, id)); }

    /** Number of tracked networks. */
    std::size_t network_count() const {
        std::size_t n = 0;
        detail::check(penguin_network_count(engine_, &n));
        return n;
    }

    /** Saves the engine to a file, atomically (penguin_save). */
    void save(const std::string &path) const { detail::check(penguin_save(engine_, path.c_str())); }

    /** The engine's state as bytes, for a NAS's own checkpoint. */
    std::vector<std::uint8_t> save_to_buffer() const {
        std::size_t size = 0;
        detail::check(penguin_state_size(engine_, &size));
        std::vector<std::uint8_t> bytes(size);
        std::size_t written = 0;
        detail::check(penguin_save_to_buffer(engine_, bytes.data(), bytes.size(), &written));
        bytes.resize(written);
        return bytes;
    }

    /** The C handle (still owned by this object). */
    const penguin_t *get() const noexcept { return engine_; }
    penguin_t *get() noexcept { return engine_; }
    /** Gives up ownership: the caller must penguin_free() the handle. */
    penguin_t *release() noexcept {
        penguin_t *e = engine_;
        engine_ = nullptr;
        return e;
    }

  private:
    penguin_t *engine_ = nullptr;
    detail::UserFunctions functions_; // user-defined functions the engine calls
};

} // namespace penguin

#endif /* PENGUIN_HPP */
