! user_function.f90: a learning-curve function of your own, written in Fortran
! and handed to Penguin. The two-parameter saturating hyperbola
!   f(x) = a x / (b + x)          (a: the plateau, b: the x of half of it)
! is zero at x = 0, rises and levels off at a, like a validation accuracy
! (x = epoch / E). Its value and Jacobian are bind(C) functions with the
! interfaces penguin_model_fn and penguin_jacobian_fn; config%set_function
! passes them to penguin_config_set_function through c_funloc.
!
!   user_function_f CURVES.csv
!
! Runs the learning curves of CURVES.csv (as penguin_curves_f, e.g.
! tests/data/fmnist_random_cnn.csv) through Penguin four times:
!   1. value + Jacobian, network by network (threads = 1; the callbacks count
!      their calls through user_data), printing one line per network:
!        <id> <model_id> <state> <stop_epoch> <prediction> <observations> <fits> <a> <b>
!   2. the same, batched over all running networks on 2 worker threads: the
!      callbacks are then called from several threads at once (they keep no
!      state) and the decisions must be those of 1, bit for bit
!   3. value only: Penguin differentiates by finite differences
!   4. a value callback that returns non-zero while a switch is on: those fits
!      fail, the network keeps training, the engine keeps working, and fits
!      succeed again once the switch is off; a function that always fails
!      never converges and the network runs to e_pred
! Lines starting with # are comments. Ends with "user_function: N checks, 0
! failed"; the exit status is non-zero when a check failed.
!
! Build (the module source ships with Penguin; see examples/fortran/CMakeLists.txt):
!   gfortran $(pkg-config --variable=fortran_source penguin) user_function.f90 \
!     $(pkg-config --libs penguin)
! (the CSV reader and the check counter, modules curves_io and self_check, come
! from example_support.f90 through the include line below).

include 'example_support.f90'

module hyperbola
  use, intrinsic :: iso_c_binding, only: c_ptr, c_size_t, c_double, c_int, c_associated, &
       c_f_pointer
  implicit none
  private
  public :: hyper2, hyper2_jacobian, hyper2_flaky, calls_t

  ! The callbacks are RECURSIVE: batched fits on several worker threads call
  ! them concurrently, and a compiler may keep the locals of a non-recursive
  ! procedure in static memory (gfortran -fcheck=recursion stops such a call).
  ! For the same reason they keep no SAVE variables.

  !> What user_data points to (only with threads = 1: updating it from several
  !> threads at once would be a data race).
  type, bind(C), public :: calls_t
     integer(c_int) :: values = 0
     integer(c_int) :: jacobians = 0
     integer(c_int) :: fail = 0       ! hyper2_flaky fails while this is not 0
  end type calls_t

contains

  !> y(i) = a x(i) / (b + x(i)), with a = p(1), b = p(2); returns 0.
  recursive function hyper2(user_data, n, x, p, y) bind(C) result(rc)
    type(c_ptr), value :: user_data
    integer(c_size_t), value :: n
    real(c_double), intent(in) :: x(n)
    real(c_double), intent(in) :: p(*)
    real(c_double), intent(out) :: y(n)
    integer(c_int) :: rc
    type(calls_t), pointer :: calls
    y = p(1) * x / (p(2) + x)       ! inf or NaN for b = -x: that fit fails
    if (c_associated(user_data)) then
       call c_f_pointer(user_data, calls)
       calls%values = calls%values + 1
    end if
    rc = 0
  end function hyper2

  !> The row-major n x 2 Jacobian: jac(2 i - 1) = df/da, jac(2 i) = df/db at x(i).
  recursive function hyper2_jacobian(user_data, n, x, p, jac) bind(C) result(rc)
    type(c_ptr), value :: user_data
    integer(c_size_t), value :: n
    real(c_double), intent(in) :: x(n)
    real(c_double), intent(in) :: p(*)
    real(c_double), intent(out) :: jac(*)
    integer(c_int) :: rc
    type(calls_t), pointer :: calls
    integer :: i
    do i = 1, int(n)
       jac(2 * i - 1) = x(i) / (p(2) + x(i))
       jac(2 * i) = -p(1) * x(i) / (p(2) + x(i))**2
    end do
    if (c_associated(user_data)) then
       call c_f_pointer(user_data, calls)
       calls%jacobians = calls%jacobians + 1
    end if
    rc = 0
  end function hyper2_jacobian

  !> hyper2, but returns 1 (a failed evaluation) while calls%fail is not 0.
  recursive function hyper2_flaky(user_data, n, x, p, y) bind(C) result(rc)
    type(c_ptr), value :: user_data
    integer(c_size_t), value :: n
    real(c_double), intent(in) :: x(n)
    real(c_double), intent(in) :: p(*)
    real(c_double), intent(out) :: y(n)
    integer(c_int) :: rc
    type(calls_t), pointer :: calls
    rc = hyper2(user_data, n, x, p, y)
    call c_f_pointer(user_data, calls)
    if (calls%fail /= 0) rc = 1
  end function hyper2_flaky

end module hyperbola

program user_function_f
  use, intrinsic :: iso_c_binding, only: c_ptr, c_int64_t, c_double, c_loc
  use, intrinsic :: ieee_arithmetic, only: ieee_is_finite, ieee_is_nan, ieee_value, &
       ieee_positive_inf
  use penguin
  use hyperbola
  use curves_io, only: read_curves
  use self_check, only: expect, checks, failures
  implicit none

  character(len=4096) :: path
  character(len=128), allocatable :: names(:)
  real(c_double), allocatable :: epochs(:), values(:)
  integer, allocatable :: first(:), counts(:)
  integer :: ncurves
  type(penguin_nn_status), allocatable :: sequential(:), batched(:), differences(:)
  type(calls_t), target :: calls
  real(c_double) :: inf

  if (command_argument_count() < 1) then
     write (*, '(a)') 'usage: user_function_f CURVES.csv'
     stop 2
  end if
  call get_command_argument(1, path)
  call read_curves(trim(path), names, epochs, values, first, counts, ncurves)
  inf = ieee_value(inf, ieee_positive_inf)
  write (*, '(2a)') '# Penguin ', penguin_version()

  call run_sequential()
  call run_batched()
  call run_finite_differences()
  call run_failing()

  write (*, '(a,i0,a,i0,a)') 'user_function: ', checks, ' checks, ', failures, ' failed'
  if (failures > 0) error stop 1

contains

  !> A configuration selecting hyper2, with its Jacobian or without (then
  !> Penguin uses finite differences); user_data: the call counters, or none.
  subroutine hyper2_config(config, threads, with_jacobian, user_data)
    type(penguin_config), intent(inout) :: config
    character(len=*), intent(in) :: threads
    logical, intent(in) :: with_jacobian
    type(c_ptr), intent(in), optional :: user_data
    integer :: ierr
    call config%init()
    call config%set('e_pred', '20')
    call config%set('threads', threads)
    if (with_jacobian) then
       ! a = 80, b = 5 to start; both >= 0 (a bound may be infinite)
       call config%set_function('hyper2', 2, hyper2, hyper2_jacobian, user_data, &
            p0=[80.0_c_double, 5.0_c_double], lower=[0.0_c_double, 0.0_c_double], &
            upper=[inf, inf], ierr=ierr)
    else
       call config%set_function('hyper2', 2, hyper2, user_data=user_data, &
            p0=[80.0_c_double, 5.0_c_double], lower=[0.0_c_double, 0.0_c_double], &
            upper=[inf, inf], ierr=ierr)
    end if
    call expect(ierr == PENGUIN_OK, 'config%set_function(''hyper2'', 2, ...): ' // &
         penguin_last_error())
  end subroutine hyper2_config

  !> 1. Network by network, as a NAS would: one validation at a time until
  !> Penguin says stop.
  subroutine run_sequential()
    type(penguin_config) :: config
    type(penguin_engine) :: engine
    type(penguin_nn_status) :: st
    integer :: k, r, networks, converged
    logical :: seen, all_decided

    calls = calls_t()
    call hyper2_config(config, '1', with_jacobian=.true., user_data=c_loc(calls))
    call engine%init(config)
    call config%free()            ! the engine keeps its own copy (and the callbacks)
    allocate (sequential(ncurves))
    networks = 0
    converged = 0
    all_decided = .true.
    do k = 1, ncurves
       st = penguin_nn_status()
       seen = .false.
       do r = first(k), first(k) + counts(k) - 1
          if (.not. ieee_is_finite(values(r))) cycle   ! a diverged validation: skip it
          call engine%observe(int(k - 1, c_int64_t), epochs(r), values(r), st)
          seen = .true.
          if (st%state /= PENGUIN_CONTINUE) exit
       end do
       sequential(k) = st            ! observations = 0: no finite validation
       if (.not. seen) cycle
       networks = networks + 1
       if (st%state == PENGUIN_CONVERGED) converged = converged + 1
       write (*, '(i0,1x,a,1x,a,1x,es24.16e3,1x,es24.16e3,1x,i0,1x,i0,2(1x,es24.16e3))') &
            k - 1, trim(names(k)), state_name(st%state), st%epoch, st%prediction, &
            st%observations, st%fits, st%params(1), st%params(2)
       all_decided = all_decided .and. st%state /= PENGUIN_CONTINUE
       call expect(st%fits > 0 .and. st%n_params == 2, 'sequential: network ' // &
            trim(names(k)) // ' was fitted with 2 parameters')
       call expect(ieee_is_finite(st%prediction), 'sequential: network ' // trim(names(k)) // &
            ' has a finite prediction')
    end do
    call expect(networks > 0, 'sequential: networks read')
    call expect(all_decided, 'sequential: every network converged or reached e_pred')
    call expect(converged > 0, 'sequential: some networks converged (stopped early)')
    call expect(calls%values > 0 .and. calls%jacobians > 0, &
         'sequential: the Fortran value and Jacobian were called')
    write (*, '(a,i0,a,i0,a,i0,a,i0,a)') '# sequential, value + Jacobian: ', networks, &
         ' networks, ', converged, ' converged; ', calls%values, ' value and ', calls%jacobians, &
         ' Jacobian calls'
    call engine%free()
  end subroutine run_sequential

  !> 2. All running networks report one validation per batch; Penguin fits them
  !> on 2 worker threads, which call hyper2 and hyper2_jacobian concurrently.
  subroutine run_batched()
    batched = batch_run('2', jacobian=.true.)
    call compare(batched, 'batched on 2 threads', exact=.true.)
  end subroutine run_batched

  !> 3. No Jacobian: Penguin uses finite differences (batched on 2 threads too).
  subroutine run_finite_differences()
    differences = batch_run('2', jacobian=.false.)
    call compare(differences, 'finite differences', exact=.false.)
  end subroutine run_finite_differences

  !> The final statuses of an engine running hyper2 on `threads` threads, fed
  !> in batches: each batch holds the next finite validation of every network
  !> still running.
  function batch_run(threads, jacobian) result(final)
    character(len=*), intent(in) :: threads
    logical, intent(in) :: jacobian
    type(penguin_nn_status), allocatable :: final(:)
    type(penguin_config) :: config
    type(penguin_engine) :: engine
    integer(c_int64_t), allocatable :: ids(:)
    real(c_double), allocatable :: ep(:), fit(:)
    type(penguin_nn_status), allocatable :: st(:)
    integer, allocatable :: next(:), slot(:)
    integer :: k, n, j
    call hyper2_config(config, threads, jacobian)
    call engine%init(config)
    call config%free()
    allocate (final(ncurves), next(ncurves), ids(ncurves), ep(ncurves), fit(ncurves), &
         slot(ncurves))
    next = first
    do
       n = 0
       do k = 1, ncurves
          do while (next(k) < first(k) + counts(k))
             if (ieee_is_finite(values(next(k)))) exit
             next(k) = next(k) + 1
          end do
          if (next(k) >= first(k) + counts(k)) cycle
          n = n + 1
          ids(n) = int(k - 1, c_int64_t)
          ep(n) = epochs(next(k))
          fit(n) = values(next(k))
          slot(n) = k
          next(k) = next(k) + 1
       end do
       if (n == 0) exit
       if (allocated(st)) deallocate (st)
       allocate (st(n))
       call engine%observe_batch(ids(1:n), ep(1:n), fit(1:n), st)
       do j = 1, n
          k = slot(j)
          final(k) = st(j)
          if (st(j)%state /= PENGUIN_CONTINUE) next(k) = first(k) + counts(k)   ! stop it
       end do
    end do
    call engine%free()
  end function batch_run

  !> Checks `got` against the sequential decisions: bit for bit (`exact`), or
  !> only a decision with a finite prediction for every network.
  subroutine compare(got, label, exact)
    type(penguin_nn_status), intent(in) :: got(:)
    character(len=*), intent(in) :: label
    logical, intent(in) :: exact
    integer :: k, same_count, same_stop, networks, converged
    logical :: ok
    same_count = 0
    same_stop = 0
    networks = 0
    converged = 0
    ok = .true.
    do k = 1, ncurves
       if (sequential(k)%observations == 0) cycle
       networks = networks + 1
       if (got(k)%state == PENGUIN_CONVERGED) converged = converged + 1
       if (same(got(k), sequential(k))) same_count = same_count + 1
       if (got(k)%state == sequential(k)%state .and. same_bits(got(k)%epoch, sequential(k)%epoch)) &
            same_stop = same_stop + 1
       ok = ok .and. got(k)%state /= PENGUIN_CONTINUE .and. got(k)%fits > 0 .and. &
            got(k)%n_params == 2 .and. ieee_is_finite(got(k)%prediction)
    end do
    call expect(ok, label // ': every network fitted and decided, with a finite prediction')
    if (exact) call expect(same_count == networks, label // ': the sequential decisions, bit for bit')
    write (*, '(3a,i0,a,i0,a,i0,a,i0,a)') '# ', label, ': ', networks, ' networks, ', converged, &
         ' converged; as sequential: ', same_count, ' bit for bit, ', same_stop, &
         ' stopped at the same epoch'
  end subroutine compare

  logical function same(a, b)
    type(penguin_nn_status), intent(in) :: a, b
    same = a%state == b%state .and. a%observations == b%observations .and. &
         a%fits == b%fits .and. a%n_params == b%n_params .and. &
         same_bits(a%prediction, b%prediction) .and. same_bits(a%epoch, b%epoch) .and. &
         same_bits(a%params(1), b%params(1)) .and. same_bits(a%params(2), b%params(2))
  end function same

  logical function same_bits(x, y)
    real(c_double), intent(in) :: x, y
    same_bits = transfer(x, 0_c_int64_t) == transfer(y, 0_c_int64_t)
  end function same_bits

  !> 4. Failing callbacks: a fit whose callback returns non-zero fails; the
  !> engine stays usable.
  subroutine run_failing()
    type(penguin_config) :: config
    type(penguin_engine) :: engine
    type(penguin_nn_status) :: st
    integer :: k, r, half, ierr, fits_while_failing
    real(c_double) :: observed
    logical :: no_fit, refitted

    k = latest_converged()
    half = first(k) + int(sequential(k)%observations) / 2
    calls = calls_t()
    call config%init()
    call config%set('e_pred', '20')
    call config%set('threads', '1')
    call config%set_function('hyper2_flaky', 2, hyper2_flaky, hyper2_jacobian, &
         user_data=c_loc(calls), p0=[80.0_c_double, 5.0_c_double], &
         lower=[0.0_c_double, 0.0_c_double], upper=[inf, inf])
    call engine%init(config)

    ! Network 1 (the curve that converged latest in 1): the callback fails for
    ! the first half of the observations it took to converge...
    calls%fail = 1
    no_fit = .true.
    do r = first(k), half - 1
       if (.not. ieee_is_finite(values(r))) cycle
       call engine%observe(1_c_int64_t, epochs(r), values(r), st, ierr)
       no_fit = no_fit .and. ierr == PENGUIN_OK .and. st%state == PENGUIN_CONTINUE .and. &
            ieee_is_nan(st%fit_prediction) .and. ieee_is_nan(st%prediction)
    end do
    fits_while_failing = st%fits
    call expect(no_fit, 'failing callback: no prediction, the network keeps training')
    call expect(fits_while_failing > 0 .and. calls%values > 0, &
         'failing callback: fits were attempted (and failed)')
    ! ... and works for the rest: the same engine fits and decides again.
    calls%fail = 0
    refitted = .false.
    do r = half, first(k) + counts(k) - 1
       if (.not. ieee_is_finite(values(r))) cycle
       call engine%observe(1_c_int64_t, epochs(r), values(r), st, ierr)
       call expect(ierr == PENGUIN_OK, 'failing callback: the engine accepts observations')
       refitted = refitted .or. ieee_is_finite(st%fit_prediction)
       if (st%state /= PENGUIN_CONTINUE) exit
    end do
    call expect(refitted .and. st%n_params == 2, 'failing callback: fits succeed once it works')
    call expect(st%state /= PENGUIN_CONTINUE .and. ieee_is_finite(st%prediction), &
         'failing callback: the network is decided after all')
    write (*, '(a,i0,3a,es24.16e3)') '# failing callback: ', fits_while_failing, &
         ' failed fits, then ', state_name(st%state), ' at epoch ', st%epoch

    ! Network 2: the callback always fails: never converged, runs to e_pred,
    ! where Penguin's answer is the observed value.
    calls%fail = 1
    do r = first(k), first(k) + counts(k) - 1
       if (.not. ieee_is_finite(values(r))) cycle
       call engine%observe(2_c_int64_t, epochs(r), values(r), st)
       observed = values(r)
       if (st%state /= PENGUIN_CONTINUE) exit
    end do
    call expect(st%state == PENGUIN_REACHED_E_PRED .and. st%fits > 0 .and. st%n_params == 0 &
         .and. same_bits(st%prediction, observed), &
         'always failing callback: reached e_pred with the observed value')
    call expect(engine%network_count() == 2, 'failing callback: the engine tracks both networks')
    write (*, '(a,i0,3a,es24.16e3)') '# always failing callback: ', st%fits, ' failed fits, ', &
         state_name(st%state), ', prediction ', st%prediction

    call config%free()
    call engine%free()
  end subroutine run_failing

  !> The curve that converged after the most observations in run_sequential.
  integer function latest_converged()
    integer :: k, most
    latest_converged = 1
    most = 0
    do k = 1, ncurves
       if (sequential(k)%state == PENGUIN_CONVERGED .and. sequential(k)%observations > most) then
          latest_converged = k
          most = sequential(k)%observations
       end if
    end do
  end function latest_converged

  function state_name(state) result(name)
    integer, intent(in) :: state
    character(len=:), allocatable :: name
    select case (state)
    case (PENGUIN_CONVERGED)
       name = 'converged'
    case (PENGUIN_REACHED_E_PRED)
       name = 'reached_e_pred'
    case default
       name = 'continue'
    end select
  end function state_name

end program user_function_f
