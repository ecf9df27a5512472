! api_check.f90: checks the Fortran module `penguin` against the C library
! (run by .ci/consumers.sh). Prints one line per failed check and, at the end,
! "api_check: N checks, 0 failed"; the exit status is non-zero on a failure.
!
!   api_check          all checks
!   api_check die      an error without ierr: must print the message and stop
!                      with a non-zero exit status
!
! Needs c_facts.c (compiled with the C compiler against penguin.h), which
! reports the C view of penguin_nn_status_t and of the constants, and
! example_support.f90 (included below: expect and its counters).

include 'example_support.f90'

! User-defined functions for check_user_functions: exp3 = a - b^(c - x),
! written as the built-in computes it (a - exp((c - x) ln b)).
module user_functions
  use, intrinsic :: iso_c_binding
  implicit none
contains
  function my_exp3(user_data, n, x, p, y) bind(C) result(rc)
    type(c_ptr), value :: user_data
    integer(c_size_t), value :: n
    real(c_double), intent(in) :: x(n)
    real(c_double), intent(in) :: p(*)
    real(c_double), intent(out) :: y(n)
    integer(c_int) :: rc
    integer, pointer :: calls
    if (c_associated(user_data)) then
       call c_f_pointer(user_data, calls)      ! a call counter (threads = 1)
       calls = calls + 1
    end if
    if (p(2) > 0) then
       y = p(1) - exp((p(3) - x) * log(p(2)))
    else
       y = ieee_nan()
    end if
    rc = 0
  end function my_exp3

  function my_exp3_jacobian(user_data, n, x, p, jac) bind(C) result(rc)
    type(c_ptr), value :: user_data
    integer(c_size_t), value :: n
    real(c_double), intent(in) :: x(n)
    real(c_double), intent(in) :: p(*)
    real(c_double), intent(out) :: jac(*)       ! jac(j + 3 * (i - 1))
    integer(c_int) :: rc
    integer :: i
    real(c_double) :: lb, pw
    lb = log(p(2))
    do i = 1, int(n)
       pw = exp((p(3) - x(i)) * lb)
       jac(3 * i - 2) = 1.0_c_double
       jac(3 * i - 1) = -(p(3) - x(i)) * pw / p(2)
       jac(3 * i) = -pw * lb
    end do
    rc = 0
    if (.false. .and. c_associated(user_data)) rc = 1   ! (user_data unused)
  end function my_exp3_jacobian

  function always_fails(user_data, n, x, p, y) bind(C) result(rc)
    type(c_ptr), value :: user_data
    integer(c_size_t), value :: n
    real(c_double), intent(in) :: x(n)
    real(c_double), intent(in) :: p(*)
    real(c_double), intent(out) :: y(n)
    integer(c_int) :: rc
    y = x + p(1)
    rc = 1                                              ! always a failure
    if (.false. .and. c_associated(user_data)) rc = 2   ! (user_data unused)
  end function always_fails

  real(c_double) function ieee_nan()
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
    ieee_nan = ieee_value(0.0_c_double, ieee_quiet_nan)
  end function ieee_nan
end module user_functions

program api_check
  use, intrinsic :: iso_c_binding
  use, intrinsic :: ieee_arithmetic, only: ieee_is_nan
  use penguin
  use user_functions, only: my_exp3, my_exp3_jacobian, always_fails
  use self_check, only: expect, checks, failures
  implicit none

  interface
     function penguin_c_facts(out) bind(C, name='penguin_c_facts') result(n)
       import :: c_int64_t, c_int
       integer(c_int64_t), intent(inout) :: out(*)
       integer(c_int) :: n
     end function penguin_c_facts
  end interface

  character(len=16) :: arg

  arg = ''
  if (command_argument_count() >= 1) call get_command_argument(1, arg)
  if (arg == 'die') then
     call die()
  else
     call check_layout_and_constants()
     call check_strings_and_config()
     call check_engine()
     call check_batch()
     call check_save_load()
     call check_user_functions()
     write (*, '(a,i0,a,i0,a)') 'api_check: ', checks, ' checks, ', failures, ' failed'
     if (failures > 0) error stop 1
  end if

contains

  integer(c_intptr_t) function address(p)
    type(c_ptr), intent(in) :: p
    address = transfer(p, address)
  end function address

  subroutine check_layout_and_constants()
    integer(c_int64_t) :: c(40)
    type(penguin_nn_status), target :: st
    integer(c_intptr_t) :: base
    integer :: n, k
    integer, parameter :: codes(0:16) = [PENGUIN_OK, PENGUIN_ERROR_NULL_ARGUMENT, &
         PENGUIN_ERROR_INVALID_EPOCH, PENGUIN_ERROR_INVALID_FITNESS, &
         PENGUIN_ERROR_EPOCH_NOT_INCREASING, PENGUIN_ERROR_UNKNOWN_NETWORK, &
         PENGUIN_ERROR_ALREADY_DECIDED, PENGUIN_ERROR_UNKNOWN_CONFIG_KEY, &
         PENGUIN_ERROR_INVALID_CONFIG_VALUE, PENGUIN_ERROR_INCONSISTENT_CONFIG, &
         PENGUIN_ERROR_UNKNOWN_FUNCTION, PENGUIN_ERROR_IO, PENGUIN_ERROR_INVALID_STATE, &
         PENGUIN_ERROR_STATE_VERSION, PENGUIN_ERROR_INVALID_ARGUMENT, &
         PENGUIN_ERROR_INTERNAL, PENGUIN_ERROR_BUFFER_TOO_SMALL]

    c = -1
    n = penguin_c_facts(c)
    call expect(n == 34, 'c_facts returns 34 entries')
    base = address(c_loc(st))
    call expect(c_sizeof(st) == c(1), 'sizeof(penguin_nn_status_t) matches')
    call expect(address(c_loc(st%state)) - base == c(2), 'offset of state')
    call expect(address(c_loc(st%observations)) - base == c(3), 'offset of observations')
    call expect(address(c_loc(st%prediction)) - base == c(4), 'offset of prediction')
    call expect(address(c_loc(st%fit_prediction)) - base == c(5), 'offset of fit_prediction')
    call expect(address(c_loc(st%epoch)) - base == c(6), 'offset of epoch')
    call expect(address(c_loc(st%fits)) - base == c(7), 'offset of fits')
    call expect(address(c_loc(st%n_params)) - base == c(8), 'offset of n_params')
    call expect(address(c_loc(st%params)) - base == c(9), 'offset of params')
    call expect(PENGUIN_MAX_PARAMS == c(10), 'PENGUIN_MAX_PARAMS')
    call expect(penguin_version_number() == c(11), 'library version = header version')
    call expect(PENGUIN_CONTINUE == c(12) .and. PENGUIN_CONVERGED == c(13) .and. &
         PENGUIN_REACHED_E_PRED == c(14), 'state constants')
    do k = 0, 16
       call expect(codes(k) == c(15 + k), 'status code constants')
    end do
    call expect(address(c_loc(st%prediction_lo)) - base == c(32), 'offset of prediction_lo')
    call expect(address(c_loc(st%prediction_hi)) - base == c(33), 'offset of prediction_hi')
    call expect(PENGUIN_ERROR_BUSY == c(34), 'PENGUIN_ERROR_BUSY')
    write (*, '(a,i0,a)') '# penguin_nn_status: ', c_sizeof(st), ' bytes in Fortran and C'
  end subroutine check_layout_and_constants

  subroutine check_strings_and_config()
    type(penguin_config) :: config
    type(penguin_engine) :: engine
    integer :: ierr
    character(len=:), allocatable :: v

    v = penguin_version()
    call expect(len(v) >= 5 .and. index(v, '.') > 0, 'penguin_version() is a version: '//v)
    call expect(penguin_result_string(PENGUIN_ERROR_UNKNOWN_CONFIG_KEY) /= '', &
         'penguin_result_string gives a description')
    call expect(.not. config%initialized(), 'a new config holds no handle')

    call config%init(ierr)
    call expect(ierr == PENGUIN_OK .and. config%initialized(), 'config%init')
    ! Trailing blanks are dropped (Fortran strings are blank-padded).
    call config%set('e_pred      ', '20    ', ierr)
    call expect(ierr == PENGUIN_OK, 'config%set with trailing blanks')
    call expect(penguin_last_error() == '', 'no message after a successful call')

    call config%set('no_such_key', '1', ierr)
    call expect(ierr == PENGUIN_ERROR_UNKNOWN_CONFIG_KEY, 'unknown key gives code 7')
    call expect(index(penguin_last_error(), 'no_such_key') > 0, &
         'the message names the key: '//penguin_last_error())
    call config%set('E', 'abc', ierr)
    call expect(ierr == PENGUIN_ERROR_INVALID_CONFIG_VALUE, 'invalid value gives code 8')
    call config%set('function', 'no_such_function', ierr)
    call expect(ierr == PENGUIN_ERROR_UNKNOWN_FUNCTION, 'unknown function gives code 10')
    call config%load('/nonexistent/penguin.conf', ierr)
    call expect(ierr == PENGUIN_ERROR_IO, 'a missing config file gives code 11')
    call expect(len(penguin_last_error()) > 0, 'the I/O error has a message')

    call config%set('N', '3', ierr)
    call engine%init(config, ierr)
    call expect(ierr == PENGUIN_OK .and. engine%initialized(), 'engine%init(config)')
    call config%free()
    call expect(.not. config%initialized(), 'config%free forgets the handle')
    call config%free()                       ! a second free does nothing
    call engine%free()
    call expect(.not. engine%initialized(), 'engine%free forgets the handle')

    ! A configuration that was never initialized is an error, not a crash.
    call engine%init(config, ierr)
    call expect(ierr == PENGUIN_ERROR_NULL_ARGUMENT, 'engine%init with a freed config')
    ! Calls on an engine without a handle are errors, not crashes.
    call engine%forget(1_c_int64_t, ierr)
    call expect(ierr == PENGUIN_ERROR_NULL_ARGUMENT, 'forget on a freed engine')
  end subroutine check_strings_and_config

  ! A synthetic learning curve: value k (epoch 0.5 k).
  real(c_double) function curve(net, k)
    integer, intent(in) :: net, k
    curve = 88.0_c_double - (70.0_c_double + net) * exp(-0.25_c_double * k)
  end function curve

  logical function same(a, b)
    type(penguin_nn_status), intent(in) :: a, b
    integer :: n
    same = a%state == b%state .and. a%observations == b%observations .and. &
         a%epoch == b%epoch .and. a%fits == b%fits .and. a%n_params == b%n_params
    if (ieee_is_nan(a%prediction) .or. ieee_is_nan(b%prediction)) then
       same = same .and. ieee_is_nan(a%prediction) .and. ieee_is_nan(b%prediction)
    else
       same = same .and. a%prediction == b%prediction
    end if
    n = max(0, min(int(a%n_params), PENGUIN_MAX_PARAMS))
    if (same .and. n > 0) same = all(a%params(1:n) == b%params(1:n))
  end function same

  subroutine check_engine()
    type(penguin_engine) :: engine
    type(penguin_nn_status) :: st, st2
    integer :: ierr, k

    call engine%init(ierr=ierr)                 ! the paper's defaults
    call expect(ierr == PENGUIN_OK, 'engine%init() with defaults')
    do k = 1, 40
       call engine%observe(7_c_int64_t, 0.5_c_double * k, curve(0, k), st, ierr)
       call expect(ierr == PENGUIN_OK, 'observe')
       if (st%state /= PENGUIN_CONTINUE) exit
    end do
    call expect(st%state == PENGUIN_CONVERGED, 'a smooth curve converges')
    call expect(st%observations == k .and. st%epoch == 0.5_c_double * k, &
         'observations and epoch are reported')
    call expect(st%n_params == 3 .and. st%fits > 0, 'exp3 has 3 fitted parameters')
    call expect(abs(st%prediction - curve(0, 40)) < 2.0_c_double, 'the prediction is near e_pred''s value')
    write (*, '(a,i0,a,f0.3,a,f0.3)') '# converged after ', st%observations, &
         ' observations at epoch ', st%epoch, ', prediction ', st%prediction

    call engine%get_status(7_c_int64_t, st2, ierr)
    call expect(ierr == PENGUIN_OK .and. same(st, st2), 'get_status repeats the last status')
    call engine%observe(7_c_int64_t, 100.0_c_double, 50.0_c_double, st2, ierr)
    call expect(ierr == PENGUIN_ERROR_ALREADY_DECIDED, 'a decided network takes no more data')
    call engine%observe(8_c_int64_t, 1.0_c_double, 50.0_c_double, ierr=ierr)
    call expect(ierr == PENGUIN_OK, 'observe without status')
    call engine%observe(8_c_int64_t, 1.0_c_double, 51.0_c_double, st2, ierr)
    call expect(ierr == PENGUIN_ERROR_EPOCH_NOT_INCREASING, 'epoch not increasing gives code 4')
    call engine%observe(8_c_int64_t, 2.0_c_double, ieee_nan(), st2, ierr)
    call expect(ierr == PENGUIN_ERROR_INVALID_FITNESS, 'NaN fitness gives code 3')
    call expect(engine%network_count() == 2, 'network_count')
    call engine%forget(8_c_int64_t, ierr)
    call expect(ierr == PENGUIN_OK .and. engine%network_count() == 1, 'forget')
    call engine%get_status(8_c_int64_t, st2, ierr)
    call expect(ierr == PENGUIN_ERROR_UNKNOWN_NETWORK, 'a forgotten network is unknown')
    ! Ids are the C API's uint64_t: the top bit set is fine.
    call engine%observe(-1_c_int64_t, 0.5_c_double, 10.0_c_double, st2, ierr)
    call expect(ierr == PENGUIN_OK .and. st2%observations == 1, 'id 2**64-1')
    call engine%free()
  end subroutine check_engine

  real(c_double) function ieee_nan()
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
    ieee_nan = ieee_value(0.0_c_double, ieee_quiet_nan)
  end function ieee_nan

  ! observe_batch gives the statuses of observe, one call per epoch for 5 networks.
  subroutine check_batch()
    type(penguin_engine) :: one, batch
    type(penguin_nn_status) :: st(5), ref(5)
    integer(c_int64_t) :: ids(5)
    real(c_double) :: epochs(5), values(5)
    integer :: ierr, k, i
    logical :: all_same

    call one%init()
    call batch%init()
    ids = [(int(100 + i, c_int64_t), i = 1, 5)]
    all_same = .true.
    do k = 1, 12
       do i = 1, 5
          epochs(i) = 0.5_c_double * k
          values(i) = curve(3 * i, k)
          call one%observe(ids(i), epochs(i), values(i), ref(i), ierr)
          if (ierr /= PENGUIN_OK) exit
       end do
       if (ierr /= PENGUIN_OK) exit
       call batch%observe_batch(ids, epochs, values, st, ierr)
       if (ierr /= PENGUIN_OK) exit
       do i = 1, 5
          all_same = all_same .and. same(st(i), ref(i))
       end do
       if (any(st%state /= PENGUIN_CONTINUE)) exit
    end do
    call expect(ierr == PENGUIN_OK, 'observe_batch succeeds')
    call expect(all_same, 'observe_batch = observe, entry by entry')
    call batch%observe_batch(ids(1:2), epochs(1:3), values(1:2), ierr=ierr)
    call expect(ierr == PENGUIN_ERROR_INVALID_ARGUMENT, 'arrays of different lengths')
    call batch%observe_batch(ids(1:0), epochs(1:0), values(1:0), ierr=ierr)
    call expect(ierr == PENGUIN_OK, 'an empty batch')
    ! All or nothing: a bad entry rejects the whole batch.
    epochs = 100.0_c_double
    values(3) = ieee_nan()
    call batch%observe_batch(ids, epochs, values, st, ierr)
    call expect(ierr /= PENGUIN_OK, 'a NaN entry rejects the batch')
    call batch%get_status(ids(1), st(1), ierr)
    call expect(ierr == PENGUIN_OK .and. st(1)%epoch < 100.0_c_double, 'a rejected batch changes nothing')
    call one%free()
    call batch%free()
  end subroutine check_batch

  ! Saving and restoring (file and memory) gives the same decisions.
  subroutine check_save_load()
    type(penguin_engine) :: a, b, c
    type(penguin_nn_status) :: sa, sb, sc
    integer(c_int8_t), allocatable :: bytes(:)
    integer :: ierr, k
    logical :: all_same
    character(len=*), parameter :: path = 'api_check.state'

    call a%init()
    do k = 1, 3
       call a%observe(1_c_int64_t, 0.5_c_double * k, curve(1, k), sa)
       call a%observe(2_c_int64_t, 0.5_c_double * k, curve(9, k), sa)
    end do
    call a%save(path, ierr)
    call expect(ierr == PENGUIN_OK, 'save to a file')
    call b%load(path, ierr=ierr)
    call expect(ierr == PENGUIN_OK .and. b%network_count() == 2, 'load from a file')
    call a%save_to_buffer(bytes, ierr)
    call expect(ierr == PENGUIN_OK .and. size(bytes) == a%state_size(), 'save_to_buffer')
    call c%load_from_buffer(bytes, ierr=ierr)
    call expect(ierr == PENGUIN_OK .and. c%network_count() == 2, 'load_from_buffer')
    all_same = .true.
    do k = 4, 40
       call a%observe(1_c_int64_t, 0.5_c_double * k, curve(1, k), sa)
       call b%observe(1_c_int64_t, 0.5_c_double * k, curve(1, k), sb)
       call c%observe(1_c_int64_t, 0.5_c_double * k, curve(1, k), sc)
       all_same = all_same .and. same(sa, sb) .and. same(sa, sc)
       if (sa%state /= PENGUIN_CONTINUE) exit
    end do
    call expect(all_same, 'restored engines decide as the original')
    bytes(1:4) = 0_c_int8_t
    call c%load_from_buffer(bytes, ierr=ierr)
    call expect(ierr == PENGUIN_ERROR_INVALID_STATE .and. c%initialized(), &
         'corrupt bytes are refused and the engine is kept')
    call b%load('/nonexistent/penguin.state', ierr=ierr)
    call expect(ierr == PENGUIN_ERROR_IO .and. b%initialized(), 'a missing state file')
    call a%free()
    call b%free()
    call c%free()
    open (newunit=k, file=path, status='old', iostat=ierr)
    if (ierr == 0) close (k, status='delete')
  end subroutine check_save_load

  ! A user-defined exp3 in Fortran decides as the built-in exp3; saving needs
  ! it registered again to load; a failing callback gives failed fits.
  subroutine check_user_functions()
    type(penguin_config) :: cb, cu, cf
    type(penguin_engine) :: builtin, user, restored, ef
    type(penguin_nn_status) :: sb, su
    integer(c_int8_t), allocatable :: bytes(:)
    integer, target :: calls
    integer :: ierr, net, k
    logical :: all_same, no_prediction
    real(c_double) :: v

    calls = 0
    call cb%init()
    call cu%init()
    call settings(cb)
    call settings(cu)
    call cb%set('function', 'exp3')
    call cu%set_function('my_exp3', 3, my_exp3, my_exp3_jacobian, user_data=c_loc(calls), &
         p0=[10.0_c_double, 1.001_c_double, 100.0_c_double], ierr=ierr)
    call expect(ierr == PENGUIN_OK, 'config%set_function')
    call builtin%init(cb)
    call user%init(cu)
    all_same = .true.
    do net = 0, 5
       do k = 1, 40
          v = curve(7 * net, k) + 0.8_c_double * sin(1.7_c_double * k + net)
          call builtin%observe(int(net, c_int64_t), 0.5_c_double * k, v, sb)
          call user%observe(int(net, c_int64_t), 0.5_c_double * k, v, su)
          all_same = all_same .and. same(sb, su)
          if (sb%state /= PENGUIN_CONTINUE) exit
       end do
    end do
    call expect(calls > 0, 'the Fortran function was called')
    call expect(all_same, 'a Fortran exp3 decides as the built-in exp3')

    call user%save_to_buffer(bytes)
    call restored%load_from_buffer(bytes, ierr=ierr)
    call expect(ierr == PENGUIN_ERROR_UNKNOWN_FUNCTION, 'loading needs the function registered')
    call restored%load_from_buffer(bytes, cu, ierr)
    call expect(ierr == PENGUIN_OK .and. restored%network_count() == 6, &
         'load_from_buffer with the function registered')
    call user%save('api_check_user.state')
    call restored%load('api_check_user.state', functions=cu, ierr=ierr)
    call expect(ierr == PENGUIN_OK .and. restored%network_count() == 6, &
         'load with the function registered')
    open (newunit=k, file='api_check_user.state', status='old', iostat=ierr)
    if (ierr == 0) close (k, status='delete')

    call cf%init()
    call cf%set_function('always_fails', 3, always_fails)
    call ef%init(cf)
    no_prediction = .true.
    do k = 1, 10
       call ef%observe(1_c_int64_t, 0.5_c_double * k, curve(0, k), su)
       no_prediction = no_prediction .and. ieee_is_nan(su%fit_prediction)
    end do
    call expect(no_prediction, 'a failing callback gives failed fits')

    call cf%set_function('f', 3, my_exp3, p0=[1.0_c_double, 2.0_c_double], ierr=ierr)
    call expect(ierr == PENGUIN_ERROR_INVALID_ARGUMENT, 'p0 of the wrong length')
    call cf%set_function('exp3', 3, my_exp3, ierr=ierr)
    call expect(ierr == PENGUIN_ERROR_INVALID_ARGUMENT, 'a built-in name')

    call cb%free()
    call cu%free()
    call cf%free()
    call builtin%free()
    call user%free()
    call restored%free()
    call ef%free()
  end subroutine check_user_functions

  subroutine settings(config)
    type(penguin_config), intent(inout) :: config
    call config%set('bounds', '0.5,1,0;200,inf,inf')
    call config%set('p0', '10,1.001,100')
    call config%set('solver', 'trf')
    call config%set('threads', '1')
  end subroutine settings

  ! No ierr: the module prints the message and stops the program.
  subroutine die()
    type(penguin_config) :: config
    call config%init()
    call config%set('no_such_key', '1')
    write (*, '(a)') 'api_check die: still running after an error without ierr'
  end subroutine die

end program api_check
