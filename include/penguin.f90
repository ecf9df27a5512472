!> penguin.f90: Fortran 2008 module `penguin`, bindings of Penguin's C API
!> (penguin.h) through ISO_C_BINDING.
!>
!> Shipped as source (.mod files are compiler-specific): compile it with your
!> own compiler together with your program and link with libpenguin, e.g.
!>   gfortran -c $(pkg-config --variable=fortran_source penguin)
!>   gfortran app.f90 penguin.o $(pkg-config --libs penguin)
!> or, in CMake, add ${Penguin_Fortran_SOURCE} to the target's sources and
!> link Penguin::penguin (or Penguin::penguin_static).
!>
!>   use penguin
!>   type(penguin_config) :: config
!>   type(penguin_engine) :: engine
!>   type(penguin_nn_status) :: st
!>   call config%init()
!>   call config%set('e_pred', '20')
!>   call engine%init(config)
!>   call config%free()
!>   call engine%observe(id, epoch, val_acc, st)     ! after each validation
!>   if (st%state /= PENGUIN_CONTINUE) ...           ! stop training
!>   call engine%free()
!>
!> Errors: every procedure takes an optional `ierr`. When present it receives
!> PENGUIN_OK (0) or the PENGUIN_ERROR_* code, and penguin_last_error() gives
!> the message. When absent, an error prints the message on stderr and stops
!> the program with `error stop`.
!>
!> Handles: penguin_config and penguin_engine hold a C pointer. Call free()
!> exactly once (free on a freed or never-initialized object does nothing).
!> Do not copy them with `=`: the copy would share the handle.
!>
!> User-defined functions: write bind(C) functions with the interfaces
!> penguin_model_fn (and optionally penguin_jacobian_fn) and register them with
!> config%set_function; engine%load and engine%load_from_buffer take the
!> config holding them (`functions`) to restore an engine that used them.
!>
!> Strings are passed trimmed (trailing blanks dropped) and NUL-terminated.
!> Network ids are integer(c_int64_t) (the C API's uint64_t, same bits).
!> penguin_nn_status mirrors penguin_nn_status_t; its unsigned C fields
!> (observations, fits, n_params) are integer(c_int32_t) here.
!> Thread-safety as in the C API: one engine, one thread at a time.
module penguin
  use, intrinsic :: iso_c_binding, only: c_ptr, c_null_ptr, c_associated, c_loc, &
       c_f_pointer, c_char, c_null_char, c_int32_t, c_int64_t, c_int8_t, c_double, c_size_t, &
       c_int, c_funptr, c_null_funptr, c_funloc
  use, intrinsic :: iso_fortran_env, only: error_unit
  implicit none
  private

  ! Status codes (penguin_result_t); the numbers never change.
  integer, parameter, public :: PENGUIN_OK = 0
  integer, parameter, public :: PENGUIN_ERROR_NULL_ARGUMENT = 1
  integer, parameter, public :: PENGUIN_ERROR_INVALID_EPOCH = 2
  integer, parameter, public :: PENGUIN_ERROR_INVALID_FITNESS = 3
  integer, parameter, public :: PENGUIN_ERROR_EPOCH_NOT_INCREASING = 4
  integer, parameter, public :: PENGUIN_ERROR_UNKNOWN_NETWORK = 5
  integer, parameter, public :: PENGUIN_ERROR_ALREADY_DECIDED = 6
  integer, parameter, public :: PENGUIN_ERROR_UNKNOWN_CONFIG_KEY = 7
  integer, parameter, public :: PENGUIN_ERROR_INVALID_CONFIG_VALUE = 8
  integer, parameter, public :: PENGUIN_ERROR_INCONSISTENT_CONFIG = 9
  integer, parameter, public :: PENGUIN_ERROR_UNKNOWN_FUNCTION = 10
  integer, parameter, public :: PENGUIN_ERROR_IO = 11
  integer, parameter, public :: PENGUIN_ERROR_INVALID_STATE = 12
  integer, parameter, public :: PENGUIN_ERROR_STATE_VERSION = 13
  integer, parameter, public :: PENGUIN_ERROR_INVALID_ARGUMENT = 14
  integer, parameter, public :: PENGUIN_ERROR_INTERNAL = 15
  integer, parameter, public :: PENGUIN_ERROR_BUFFER_TOO_SMALL = 16
  integer, parameter, public :: PENGUIN_ERROR_BUSY = 17

  ! Values of penguin_nn_status%state.
  integer, parameter, public :: PENGUIN_CONTINUE = 0
  integer, parameter, public :: PENGUIN_CONVERGED = 1
  integer, parameter, public :: PENGUIN_REACHED_E_PRED = 2

  !> Most parameters reported in penguin_nn_status%params.
  integer, parameter, public :: PENGUIN_MAX_PARAMS = 8

  !> What Penguin says about one network: the C struct penguin_nn_status_t.
  type, bind(C), public :: penguin_nn_status
     !> PENGUIN_CONTINUE, PENGUIN_CONVERGED or PENGUIN_REACHED_E_PRED.
     integer(c_int32_t) :: state = PENGUIN_CONTINUE
     !> Number of observations of this network.
     integer(c_int32_t) :: observations = 0
     !> Penguin's answer for the fitness at e_pred (NaN while there is none).
     real(c_double) :: prediction = 0
     !> The newest parametric prediction (NaN when the newest fit failed).
     real(c_double) :: fit_prediction = 0
     !> Epoch of the newest observation.
     real(c_double) :: epoch = 0
     !> Least-squares fits performed for this network.
     integer(c_int32_t) :: fits = 0
     !> Number of valid entries in params.
     integer(c_int32_t) :: n_params = 0
     !> Parameters of the newest successful fit (first n_params entries).
     real(c_double) :: params(PENGUIN_MAX_PARAMS) = 0
     !> Prediction interval of the newest fit (config key interval; NaN when none).
     real(c_double) :: prediction_lo = 0
     !> Upper end of the prediction interval.
     real(c_double) :: prediction_hi = 0
  end type penguin_nn_status

  !> A configuration (penguin_config_t).
  type, public :: penguin_config
     private
     type(c_ptr) :: handle = c_null_ptr
   contains
     !> call config%init([ierr]): the paper's defaults.
     procedure :: init => config_init
     !> call config%set(key, value [, ierr]), e.g. ('e_pred', '20').
     procedure :: set => config_set
     !> call config%load(path [, ierr]): `key = value` lines from a file.
     procedure :: load => config_load
     !> call config%set_function(name, n_params, value [, jacobian] [, user_data]
     !>   [, p0] [, lower] [, upper] [, ierr]): registers and selects a
     !>   user-defined function (see penguin_model_fn).
     procedure :: set_function => config_set_function
     !> call config%free(): frees the handle (engines keep their own copy).
     procedure :: free => config_free
     !> config%initialized(): .true. while it holds a handle.
     procedure :: initialized => config_initialized
  end type penguin_config

  !> An engine (penguin_t): tracks networks and decides when to stop them.
  type, public :: penguin_engine
     private
     type(c_ptr) :: handle = c_null_ptr
   contains
     !> call engine%init([config] [, ierr]): a new engine (no config: defaults).
     procedure :: init => engine_init
     !> call engine%observe(nn_id, epoch, fitness [, status] [, ierr])
     procedure :: observe => engine_observe
     !> call engine%observe_batch(nn_ids, epochs, fitness [, statuses] [, ierr])
     procedure :: observe_batch => engine_observe_batch
     !> call engine%get_status(nn_id, status [, ierr])
     procedure :: get_status => engine_status
     !> call engine%forget(nn_id [, ierr])
     procedure :: forget => engine_forget
     !> n = engine%network_count([ierr])
     procedure :: network_count => engine_network_count
     !> call engine%save(path [, ierr]): atomic save to a file.
     procedure :: save => engine_save
     !> call engine%load(path [, functions] [, ierr]): replaces this engine by
     !>   a saved one; `functions`: a config with the user-defined functions
     !>   the saved engine used.
     procedure :: load => engine_load
     !> n = engine%state_size([ierr]): bytes of save_to_buffer.
     procedure :: state_size => engine_state_size
     !> call engine%save_to_buffer(bytes [, ierr]): bytes is allocated.
     procedure :: save_to_buffer => engine_save_to_buffer
     !> call engine%load_from_buffer(bytes [, functions] [, ierr])
     procedure :: load_from_buffer => engine_load_from_buffer
     !> call engine%free()
     procedure :: free => engine_free
     !> engine%initialized(): .true. while it holds a handle.
     procedure :: initialized => engine_initialized
  end type penguin_engine

  public :: penguin_version, penguin_version_number, penguin_result_string, penguin_last_error

  !> Interfaces of user-defined functions (config%set_function). Write them as
  !> bind(C) procedures of a module. A non-zero result, or NaN/inf written,
  !> makes that fit fail (the network keeps training). With the config key
  !> `threads` other than 1 they may be called from several threads at once
  !> (no SAVE variables then, and declare them `recursive`: gfortran may
  !> otherwise keep their locals in static memory); they must not call the engine.
  abstract interface
     !> y_out(i) = f(x(i); params(1:n_params)), i = 1..n; return 0.
     function penguin_model_fn(user_data, n, x, params, y_out) bind(C) result(rc)
       import :: c_ptr, c_size_t, c_double, c_int
       type(c_ptr), value :: user_data
       integer(c_size_t), value :: n
       real(c_double), intent(in) :: x(n)
       real(c_double), intent(in) :: params(*)
       real(c_double), intent(out) :: y_out(n)
       integer(c_int) :: rc
     end function penguin_model_fn
     !> jac_out(j + n_params * (i - 1)) = d f(x(i)) / d params(j): the C
     !> row-major n x n_params array, i.e. a Fortran jac(n_params, n); return 0.
     function penguin_jacobian_fn(user_data, n, x, params, jac_out) bind(C) result(rc)
       import :: c_ptr, c_size_t, c_double, c_int
       type(c_ptr), value :: user_data
       integer(c_size_t), value :: n
       real(c_double), intent(in) :: x(n)
       real(c_double), intent(in) :: params(*)
       real(c_double), intent(out) :: jac_out(*)
       integer(c_int) :: rc
     end function penguin_jacobian_fn
  end interface
  public :: penguin_model_fn, penguin_jacobian_fn

  interface
     function c_penguin_config_new(config_out) bind(C, name='penguin_config_new') result(rc)
       import :: c_ptr, c_int32_t
       type(c_ptr), intent(inout) :: config_out
       integer(c_int32_t) :: rc
     end function c_penguin_config_new

     function c_penguin_config_set(config, key, value) bind(C, name='penguin_config_set') result(rc)
       import :: c_ptr, c_char, c_int32_t
       type(c_ptr), value :: config
       character(kind=c_char), intent(in) :: key(*), value(*)
       integer(c_int32_t) :: rc
     end function c_penguin_config_set

     function c_penguin_config_load(config, path) bind(C, name='penguin_config_load') result(rc)
       import :: c_ptr, c_char, c_int32_t
       type(c_ptr), value :: config
       character(kind=c_char), intent(in) :: path(*)
       integer(c_int32_t) :: rc
     end function c_penguin_config_load

     function c_penguin_config_set_function(config, name, n_params, value, jacobian, user_data, &
          p0, lower, upper) bind(C, name='penguin_config_set_function') result(rc)
       import :: c_ptr, c_char, c_int32_t, c_funptr
       type(c_ptr), value :: config
       character(kind=c_char), intent(in) :: name(*)
       integer(c_int32_t), value :: n_params
       type(c_funptr), value :: value, jacobian
       type(c_ptr), value :: user_data, p0, lower, upper
       integer(c_int32_t) :: rc
     end function c_penguin_config_set_function

     subroutine c_penguin_config_free(config) bind(C, name='penguin_config_free')
       import :: c_ptr
       type(c_ptr), value :: config
     end subroutine c_penguin_config_free

     function c_penguin_new(config, engine_out) bind(C, name='penguin_new') result(rc)
       import :: c_ptr, c_int32_t
       type(c_ptr), value :: config
       type(c_ptr), intent(inout) :: engine_out
       integer(c_int32_t) :: rc
     end function c_penguin_new

     subroutine c_penguin_free(engine) bind(C, name='penguin_free')
       import :: c_ptr
       type(c_ptr), value :: engine
     end subroutine c_penguin_free

     function c_penguin_observe(engine, nn_id, epoch, fitness, status_out) &
          bind(C, name='penguin_observe') result(rc)
       import :: c_ptr, c_int64_t, c_double, c_int32_t
       type(c_ptr), value :: engine
       integer(c_int64_t), value :: nn_id
       real(c_double), value :: epoch, fitness
       type(c_ptr), value :: status_out
       integer(c_int32_t) :: rc
     end function c_penguin_observe

     function c_penguin_observe_batch(engine, n, nn_ids, epochs, fitness, statuses_out) &
          bind(C, name='penguin_observe_batch') result(rc)
       import :: c_ptr, c_size_t, c_int64_t, c_double, c_int32_t
       type(c_ptr), value :: engine
       integer(c_size_t), value :: n
       integer(c_int64_t), intent(in) :: nn_ids(*)
       real(c_double), intent(in) :: epochs(*), fitness(*)
       type(c_ptr), value :: statuses_out
       integer(c_int32_t) :: rc
     end function c_penguin_observe_batch

     function c_penguin_status(engine, nn_id, status_out) bind(C, name='penguin_status') result(rc)
       import :: c_ptr, c_int64_t, c_int32_t, penguin_nn_status
       type(c_ptr), value :: engine
       integer(c_int64_t), value :: nn_id
       type(penguin_nn_status), intent(inout) :: status_out
       integer(c_int32_t) :: rc
     end function c_penguin_status

     function c_penguin_forget(engine, nn_id) bind(C, name='penguin_forget') result(rc)
       import :: c_ptr, c_int64_t, c_int32_t
       type(c_ptr), value :: engine
       integer(c_int64_t), value :: nn_id
       integer(c_int32_t) :: rc
     end function c_penguin_forget

     function c_penguin_network_count(engine, count_out) bind(C, name='penguin_network_count') result(rc)
       import :: c_ptr, c_size_t, c_int32_t
       type(c_ptr), value :: engine
       integer(c_size_t), intent(inout) :: count_out
       integer(c_int32_t) :: rc
     end function c_penguin_network_count

     function c_penguin_save(engine, path) bind(C, name='penguin_save') result(rc)
       import :: c_ptr, c_char, c_int32_t
       type(c_ptr), value :: engine
       character(kind=c_char), intent(in) :: path(*)
       integer(c_int32_t) :: rc
     end function c_penguin_save

     function c_penguin_load(path, engine_out) bind(C, name='penguin_load') result(rc)
       import :: c_ptr, c_char, c_int32_t
       character(kind=c_char), intent(in) :: path(*)
       type(c_ptr), intent(inout) :: engine_out
       integer(c_int32_t) :: rc
     end function c_penguin_load

     function c_penguin_load_with_config(path, functions, engine_out) &
          bind(C, name='penguin_load_with_config') result(rc)
       import :: c_ptr, c_char, c_int32_t
       character(kind=c_char), intent(in) :: path(*)
       type(c_ptr), value :: functions
       type(c_ptr), intent(inout) :: engine_out
       integer(c_int32_t) :: rc
     end function c_penguin_load_with_config

     function c_penguin_state_size(engine, size_out) bind(C, name='penguin_state_size') result(rc)
       import :: c_ptr, c_size_t, c_int32_t
       type(c_ptr), value :: engine
       integer(c_size_t), intent(inout) :: size_out
       integer(c_int32_t) :: rc
     end function c_penguin_state_size

     function c_penguin_save_to_buffer(engine, buf, len, written_out) &
          bind(C, name='penguin_save_to_buffer') result(rc)
       import :: c_ptr, c_int8_t, c_size_t, c_int32_t
       type(c_ptr), value :: engine
       integer(c_int8_t), intent(inout) :: buf(*)
       integer(c_size_t), value :: len
       integer(c_size_t), intent(inout) :: written_out
       integer(c_int32_t) :: rc
     end function c_penguin_save_to_buffer

     function c_penguin_load_from_buffer(buf, len, engine_out) &
          bind(C, name='penguin_load_from_buffer') result(rc)
       import :: c_ptr, c_int8_t, c_size_t, c_int32_t
       integer(c_int8_t), intent(in) :: buf(*)
       integer(c_size_t), value :: len
       type(c_ptr), intent(inout) :: engine_out
       integer(c_int32_t) :: rc
     end function c_penguin_load_from_buffer

     function c_penguin_load_from_buffer_with_config(buf, len, functions, engine_out) &
          bind(C, name='penguin_load_from_buffer_with_config') result(rc)
       import :: c_ptr, c_int8_t, c_size_t, c_int32_t
       integer(c_int8_t), intent(in) :: buf(*)
       integer(c_size_t), value :: len
       type(c_ptr), value :: functions
       type(c_ptr), intent(inout) :: engine_out
       integer(c_int32_t) :: rc
     end function c_penguin_load_from_buffer_with_config

     function c_penguin_result_string(code) bind(C, name='penguin_result_string') result(s)
       import :: c_ptr, c_int32_t
       integer(c_int32_t), value :: code
       type(c_ptr) :: s
     end function c_penguin_result_string

     function c_penguin_last_error_message(buf, len) bind(C, name='penguin_last_error_message') result(n)
       import :: c_ptr, c_size_t
       type(c_ptr), value :: buf
       integer(c_size_t), value :: len
       integer(c_size_t) :: n
     end function c_penguin_last_error_message

     function c_penguin_version() bind(C, name='penguin_version') result(s)
       import :: c_ptr
       type(c_ptr) :: s
     end function c_penguin_version

     function c_penguin_version_number() bind(C, name='penguin_version_number') result(v)
       import :: c_int32_t
       integer(c_int32_t) :: v
     end function c_penguin_version_number

     function c_strlen(s) bind(C, name='strlen') result(n)
       import :: c_ptr, c_size_t
       type(c_ptr), value :: s
       integer(c_size_t) :: n
     end function c_strlen
  end interface

contains

  ! ------------------------------------------------------------ strings, errors

  !> A Fortran string as a NUL-terminated C string (trailing blanks dropped).
  pure function c_string(s) result(cs)
    character(len=*), intent(in) :: s
    character(kind=c_char, len=:), allocatable :: cs
    cs = trim(s) // c_null_char
  end function c_string

  !> A copy of a NUL-terminated C string ('' for NULL).
  function f_string(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer(c_size_t) :: n
    integer :: i
    if (.not. c_associated(p)) then
       s = ''
       return
    end if
    n = c_strlen(p)
    call c_f_pointer(p, chars, [n])
    allocate (character(len=n) :: s)
    do i = 1, int(n)
       s(i:i) = chars(i)
    end do
  end function f_string

  !> The calling thread's last error message (empty after a successful call).
  function penguin_last_error() result(message)
    character(len=:), allocatable :: message
    character(kind=c_char), allocatable, target :: buf(:)
    integer(c_size_t) :: n
    integer :: i
    n = c_penguin_last_error_message(c_null_ptr, 0_c_size_t)
    allocate (buf(n + 1))
    n = min(n, c_penguin_last_error_message(c_loc(buf), size(buf, kind=c_size_t)))
    allocate (character(len=n) :: message)
    do i = 1, int(n)
       message(i:i) = buf(i)
    end do
  end function penguin_last_error

  !> A static description of a status code.
  function penguin_result_string(code) result(s)
    integer, intent(in) :: code
    character(len=:), allocatable :: s
    s = f_string(c_penguin_result_string(int(code, c_int32_t)))
  end function penguin_result_string

  !> The library's version, e.g. '0.2.0'.
  function penguin_version() result(s)
    character(len=:), allocatable :: s
    s = f_string(c_penguin_version())
  end function penguin_version

  !> The library's version as MAJOR * 10000 + MINOR * 100 + PATCH.
  function penguin_version_number() result(v)
    integer :: v
    v = int(c_penguin_version_number())
  end function penguin_version_number

  !> Hands a status code to the caller (ierr present) or stops on an error.
  subroutine check(rc, ierr)
    integer(c_int32_t), intent(in) :: rc
    integer, intent(out), optional :: ierr
    if (present(ierr)) then
       ierr = int(rc)
    else if (rc /= PENGUIN_OK) then
       call fail(int(rc), penguin_last_error())
    end if
  end subroutine check

  !> An error found by the Fortran layer itself (no C call was made).
  subroutine local_error(code, message, ierr)
    integer, intent(in) :: code
    character(len=*), intent(in) :: message
    integer, intent(out), optional :: ierr
    if (present(ierr)) then
       ierr = code
    else
       call fail(code, message)
    end if
  end subroutine local_error

  subroutine fail(code, message)
    integer, intent(in) :: code
    character(len=*), intent(in) :: message
    write (error_unit, '(a,i0,4a)') 'penguin: error ', code, ' (', &
         penguin_result_string(code), '): ', message
    error stop 1
  end subroutine fail

  ! ------------------------------------------------------------- configuration

  subroutine config_init(self, ierr)
    class(penguin_config), intent(inout) :: self
    integer, intent(out), optional :: ierr
    type(c_ptr) :: p
    integer(c_int32_t) :: rc
    p = c_null_ptr
    rc = c_penguin_config_new(p)
    if (rc == PENGUIN_OK) then
       call c_penguin_config_free(self%handle)
       self%handle = p
    end if
    call check(rc, ierr)
  end subroutine config_init

  subroutine config_set(self, key, value, ierr)
    class(penguin_config), intent(inout) :: self
    character(len=*), intent(in) :: key, value
    integer, intent(out), optional :: ierr
    call check(c_penguin_config_set(self%handle, c_string(key), c_string(value)), ierr)
  end subroutine config_set

  subroutine config_load(self, path, ierr)
    class(penguin_config), intent(inout) :: self
    character(len=*), intent(in) :: path
    integer, intent(out), optional :: ierr
    call check(c_penguin_config_load(self%handle, c_string(path)), ierr)
  end subroutine config_load

  subroutine config_set_function(self, name, n_params, value, jacobian, user_data, p0, lower, &
       upper, ierr)
    class(penguin_config), intent(inout) :: self
    character(len=*), intent(in) :: name
    integer, intent(in) :: n_params
    procedure(penguin_model_fn) :: value
    procedure(penguin_jacobian_fn), optional :: jacobian
    type(c_ptr), intent(in), optional :: user_data
    real(c_double), intent(in), optional :: p0(:), lower(:), upper(:)
    integer, intent(out), optional :: ierr
    real(c_double), allocatable, target :: p0_c(:), lower_c(:), upper_c(:)
    type(c_funptr) :: jac
    type(c_ptr) :: user, p0_p, lower_p, upper_p

    if (n_params < 0) then
       call local_error(PENGUIN_ERROR_INVALID_ARGUMENT, &
            'config%set_function: n_params is negative', ierr)
       return
    end if
    if (wrong_size(p0) .or. wrong_size(lower) .or. wrong_size(upper)) then
       call local_error(PENGUIN_ERROR_INVALID_ARGUMENT, &
            'config%set_function: p0, lower and upper need n_params values', ierr)
       return
    end if
    jac = c_null_funptr
    if (present(jacobian)) jac = c_funloc(jacobian)
    user = c_null_ptr
    if (present(user_data)) user = user_data
    allocate (p0_c(max(n_params, 1)), lower_c(max(n_params, 1)), upper_c(max(n_params, 1)))
    p0_p = c_null_ptr
    lower_p = c_null_ptr
    upper_p = c_null_ptr
    if (present(p0)) then
       p0_c(1:n_params) = p0
       p0_p = c_loc(p0_c)
    end if
    if (present(lower)) then
       lower_c(1:n_params) = lower
       lower_p = c_loc(lower_c)
    end if
    if (present(upper)) then
       upper_c(1:n_params) = upper
       upper_p = c_loc(upper_c)
    end if
    call check(c_penguin_config_set_function(self%handle, c_string(name), &
         int(n_params, c_int32_t), c_funloc(value), jac, user, p0_p, lower_p, upper_p), ierr)
  contains
    logical function wrong_size(v)
      real(c_double), intent(in), optional :: v(:)
      wrong_size = .false.
      if (present(v)) wrong_size = size(v) /= n_params
    end function wrong_size
  end subroutine config_set_function

  subroutine config_free(self)
    class(penguin_config), intent(inout) :: self
    call c_penguin_config_free(self%handle)
    self%handle = c_null_ptr
  end subroutine config_free

  logical function config_initialized(self)
    class(penguin_config), intent(in) :: self
    config_initialized = c_associated(self%handle)
  end function config_initialized

  ! -------------------------------------------------------------------- engine

  !> Replaces self's handle by p (freeing the old one) when rc is OK.
  subroutine engine_replace(self, p, rc)
    class(penguin_engine), intent(inout) :: self
    type(c_ptr), intent(in) :: p
    integer(c_int32_t), intent(in) :: rc
    if (rc == PENGUIN_OK) then
       call c_penguin_free(self%handle)
       self%handle = p
    end if
  end subroutine engine_replace

  subroutine engine_init(self, config, ierr)
    class(penguin_engine), intent(inout) :: self
    class(penguin_config), intent(in), optional :: config
    integer, intent(out), optional :: ierr
    type(c_ptr) :: p, c
    integer(c_int32_t) :: rc
    c = c_null_ptr
    if (present(config)) then
       if (.not. c_associated(config%handle)) then
          call local_error(PENGUIN_ERROR_NULL_ARGUMENT, &
               'engine%init: the configuration is not initialized (call config%init first)', ierr)
          return
       end if
       c = config%handle
    end if
    p = c_null_ptr
    rc = c_penguin_new(c, p)
    call engine_replace(self, p, rc)
    call check(rc, ierr)
  end subroutine engine_init

  subroutine engine_observe(self, nn_id, epoch, fitness, status, ierr)
    class(penguin_engine), intent(inout) :: self
    integer(c_int64_t), intent(in) :: nn_id
    real(c_double), intent(in) :: epoch, fitness
    type(penguin_nn_status), intent(inout), optional, target :: status
    integer, intent(out), optional :: ierr
    type(c_ptr) :: out
    out = c_null_ptr
    if (present(status)) out = c_loc(status)
    call check(c_penguin_observe(self%handle, nn_id, epoch, fitness, out), ierr)
  end subroutine engine_observe

  subroutine engine_observe_batch(self, nn_ids, epochs, fitness, statuses, ierr)
    class(penguin_engine), intent(inout) :: self
    integer(c_int64_t), intent(in) :: nn_ids(:)
    real(c_double), intent(in) :: epochs(:), fitness(:)
    type(penguin_nn_status), intent(inout), optional, target, contiguous :: statuses(:)
    integer, intent(out), optional :: ierr
    type(c_ptr) :: out
    integer :: n
    n = size(nn_ids)
    if (size(epochs) /= n .or. size(fitness) /= n) then
       call local_error(PENGUIN_ERROR_INVALID_ARGUMENT, &
            'engine%observe_batch: nn_ids, epochs and fitness differ in length', ierr)
       return
    end if
    out = c_null_ptr
    if (present(statuses)) then
       if (size(statuses) /= n) then
          call local_error(PENGUIN_ERROR_INVALID_ARGUMENT, &
               'engine%observe_batch: statuses and nn_ids differ in length', ierr)
          return
       end if
       if (n > 0) out = c_loc(statuses)
    end if
    call check(c_penguin_observe_batch(self%handle, int(n, c_size_t), nn_ids, epochs, fitness, &
         out), ierr)
  end subroutine engine_observe_batch

  subroutine engine_status(self, nn_id, status, ierr)
    class(penguin_engine), intent(in) :: self
    integer(c_int64_t), intent(in) :: nn_id
    type(penguin_nn_status), intent(inout) :: status
    integer, intent(out), optional :: ierr
    call check(c_penguin_status(self%handle, nn_id, status), ierr)
  end subroutine engine_status

  subroutine engine_forget(self, nn_id, ierr)
    class(penguin_engine), intent(inout) :: self
    integer(c_int64_t), intent(in) :: nn_id
    integer, intent(out), optional :: ierr
    call check(c_penguin_forget(self%handle, nn_id), ierr)
  end subroutine engine_forget

  function engine_network_count(self, ierr) result(n)
    class(penguin_engine), intent(in) :: self
    integer, intent(out), optional :: ierr
    integer(c_size_t) :: n
    n = 0
    call check(c_penguin_network_count(self%handle, n), ierr)
  end function engine_network_count

  subroutine engine_save(self, path, ierr)
    class(penguin_engine), intent(in) :: self
    character(len=*), intent(in) :: path
    integer, intent(out), optional :: ierr
    call check(c_penguin_save(self%handle, c_string(path)), ierr)
  end subroutine engine_save

  subroutine engine_load(self, path, functions, ierr)
    class(penguin_engine), intent(inout) :: self
    character(len=*), intent(in) :: path
    class(penguin_config), intent(in), optional :: functions
    integer, intent(out), optional :: ierr
    type(c_ptr) :: p
    integer(c_int32_t) :: rc
    p = c_null_ptr
    if (present(functions)) then
       rc = c_penguin_load_with_config(c_string(path), functions%handle, p)
    else
       rc = c_penguin_load(c_string(path), p)
    end if
    call engine_replace(self, p, rc)
    call check(rc, ierr)
  end subroutine engine_load

  function engine_state_size(self, ierr) result(n)
    class(penguin_engine), intent(in) :: self
    integer, intent(out), optional :: ierr
    integer(c_size_t) :: n
    n = 0
    call check(c_penguin_state_size(self%handle, n), ierr)
  end function engine_state_size

  subroutine engine_save_to_buffer(self, bytes, ierr)
    class(penguin_engine), intent(in) :: self
    integer(c_int8_t), allocatable, intent(out) :: bytes(:)
    integer, intent(out), optional :: ierr
    integer(c_size_t) :: n, written
    integer(c_int32_t) :: rc
    n = 0
    rc = c_penguin_state_size(self%handle, n)
    if (rc == PENGUIN_OK) then
       allocate (bytes(max(n, 1_c_size_t)))
       written = 0
       rc = c_penguin_save_to_buffer(self%handle, bytes, n, written)
       if (rc == PENGUIN_OK) then
          bytes = bytes(1:written)
       else
          deallocate (bytes)
       end if
    end if
    call check(rc, ierr)
  end subroutine engine_save_to_buffer

  subroutine engine_load_from_buffer(self, bytes, functions, ierr)
    class(penguin_engine), intent(inout) :: self
    integer(c_int8_t), intent(in) :: bytes(:)
    class(penguin_config), intent(in), optional :: functions
    integer, intent(out), optional :: ierr
    type(c_ptr) :: p
    integer(c_int32_t) :: rc
    p = c_null_ptr
    if (present(functions)) then
       rc = c_penguin_load_from_buffer_with_config(bytes, size(bytes, kind=c_size_t), &
            functions%handle, p)
    else
       rc = c_penguin_load_from_buffer(bytes, size(bytes, kind=c_size_t), p)
    end if
    call engine_replace(self, p, rc)
    call check(rc, ierr)
  end subroutine engine_load_from_buffer

  subroutine engine_free(self)
    class(penguin_engine), intent(inout) :: self
    call c_penguin_free(self%handle)
    self%handle = c_null_ptr
  end subroutine engine_free

  logical function engine_initialized(self)
    class(penguin_engine), intent(in) :: self
    engine_initialized = c_associated(self%handle)
  end function engine_initialized

end module penguin
