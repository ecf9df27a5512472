! penguin_curves.f90: the Fortran twin of examples/penguin_curves.c. Feeds
! recorded learning curves to Penguin the way a NAS would and prints, per
! network, when Penguin stopped it and what it predicted.
!
!   penguin_curves_f CURVES.csv [CONFIG_FILE|-]
!
! CURVES.csv: long format with a header naming at least model_id, epoch and
! val_acc (rows of one network together, in epoch order), e.g.
! tests/data/fmnist_random_cnn.csv. Output, one line per network:
!   <id> <model_id> <state> <stop_epoch> <prediction> <observations>
! (the format of penguin_curves.c; lines starting with # are comments).
!
! Build (the module source ships with Penguin; see examples/fortran/CMakeLists.txt):
!   gfortran $(pkg-config --variable=fortran_source penguin) penguin_curves.f90 \
!     $(pkg-config --libs penguin)
! (the CSV reader, module curves_io, comes from example_support.f90 through
! the include line below: it is compiled with this file).

include 'example_support.f90'

program penguin_curves_f
  use, intrinsic :: iso_c_binding, only: c_int64_t, c_double
  use, intrinsic :: ieee_arithmetic, only: ieee_is_finite
  use penguin
  use curves_io, only: read_curves
  implicit none

  character(len=4096) :: path, config_path
  character(len=128), allocatable :: names(:)
  real(c_double), allocatable :: epochs(:), values(:)
  integer, allocatable :: first(:), counts(:)
  integer :: ncurves, k, r, ierr
  logical :: seen
  type(penguin_config) :: config
  type(penguin_engine) :: engine
  type(penguin_nn_status) :: st

  if (command_argument_count() < 1) then
     write (*, '(a)') 'usage: penguin_curves_f CURVES.csv [CONFIG_FILE|-]'
     stop 2
  end if
  call get_command_argument(1, path)
  config_path = '-'
  if (command_argument_count() >= 2) call get_command_argument(2, config_path)
  call read_curves(trim(path), names, epochs, values, first, counts, ncurves)

  ! A configuration (the paper's defaults, optionally from a file) and an engine.
  call config%init()
  call config%set('e_pred', '20')
  if (trim(config_path) /= '-') call config%load(config_path)
  call engine%init(config)
  call config%free()            ! the engine keeps its own copy

  write (*, '(2a)') '# Penguin ', penguin_version()
  do k = 1, ncurves
     seen = .false.
     ! "Train" network k-1: one validation per row, until Penguin says stop.
     do r = first(k), first(k) + counts(k) - 1
        if (.not. ieee_is_finite(values(r))) cycle   ! a diverged validation: skip it
        call engine%observe(int(k - 1, c_int64_t), epochs(r), values(r), st)
        seen = .true.
        if (st%state /= PENGUIN_CONTINUE) exit
     end do
     if (.not. seen) cycle
     write (*, '(i0,1x,a,1x,a,1x,es24.16e3,1x,es24.16e3,1x,i0)') k - 1, trim(names(k)), &
          state_name(st%state), st%epoch, st%prediction, st%observations
  end do

  ! Errors with ierr present: a code and a message instead of a stop.
  call engine%observe(0_c_int64_t, -1.0_c_double, 50.0_c_double, st, ierr)
  write (*, '(a,i0,2a)') '# rejected as expected: ierr = ', ierr, ': ', penguin_last_error()

  call engine%free()

contains

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

end program penguin_curves_f
