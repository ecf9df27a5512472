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
program penguin_curves_f
  use, intrinsic :: iso_c_binding, only: c_int64_t, c_double
  use, intrinsic :: ieee_arithmetic, only: ieee_is_finite
  use penguin
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

  ! Reads model_id, epoch and val_acc of a long-format CSV; curve k is rows
  ! first(k) .. first(k) + counts(k) - 1. Unparsable values become NaN.
  subroutine read_curves(path, names, epochs, values, first, counts, ncurves)
    use, intrinsic :: ieee_arithmetic, only: ieee_value, ieee_quiet_nan
    character(len=*), intent(in) :: path
    character(len=128), allocatable, intent(out) :: names(:)
    real(c_double), allocatable, intent(out) :: epochs(:), values(:)
    integer, allocatable, intent(out) :: first(:), counts(:)
    integer, intent(out) :: ncurves
    character(len=4096) :: line
    character(len=128) :: id
    character(len=:), allocatable :: text
    integer :: unit, ios, nrows, c_id, c_ep, c_v, row
    logical :: new_curve

    open (newunit=unit, file=path, status='old', action='read', iostat=ios)
    if (ios /= 0) error stop 'cannot open the curves file'
    read (unit, '(a)') line
    c_id = column(line, 'model_id')
    c_ep = column(line, 'epoch')
    c_v = column(line, 'val_acc')
    if (min(c_id, c_ep, c_v) < 1) error stop 'needs columns model_id, epoch, val_acc'
    nrows = 0
    do
       read (unit, '(a)', iostat=ios) line
       if (ios /= 0) exit
       if (len_trim(line) > 0) nrows = nrows + 1
    end do
    allocate (names(nrows), epochs(nrows), values(nrows), first(nrows), counts(nrows))
    rewind (unit)
    read (unit, '(a)') line
    ncurves = 0
    row = 0
    do
       read (unit, '(a)', iostat=ios) line
       if (ios /= 0) exit
       if (len_trim(line) == 0) cycle
       row = row + 1
       id = field(line, c_id)
       new_curve = ncurves == 0
       if (.not. new_curve) new_curve = id /= names(ncurves)
       if (new_curve) then
          ncurves = ncurves + 1
          names(ncurves) = id
          first(ncurves) = row
          counts(ncurves) = 0
       end if
       counts(ncurves) = counts(ncurves) + 1
       text = field(line, c_ep)
       read (text, *, iostat=ios) epochs(row)
       if (ios /= 0) epochs(row) = ieee_value(epochs(row), ieee_quiet_nan)
       text = field(line, c_v)
       read (text, *, iostat=ios) values(row)
       if (ios /= 0) values(row) = ieee_value(values(row), ieee_quiet_nan)
    end do
    close (unit)
  end subroutine read_curves

  ! The i-th comma-separated field of line (1-based; '' when missing).
  function field(line, i) result(f)
    character(len=*), intent(in) :: line
    integer, intent(in) :: i
    character(len=:), allocatable :: f
    integer :: start, k, comma
    start = 1
    do k = 1, i - 1
       comma = index(line(start:), ',')
       if (comma == 0) then
          f = ''
          return
       end if
       start = start + comma
    end do
    comma = index(line(start:), ',')
    if (comma == 0) then
       f = trim(line(start:))
    else
       f = line(start:start + comma - 2)
    end if
  end function field

  ! Index (1-based) of column `name` in a header line, or 0.
  integer function column(header, name)
    character(len=*), intent(in) :: header, name
    integer :: k
    column = 0
    do k = 1, 256
       if (field(header, k) == name) then
          column = k
          return
       end if
    end do
  end function column

end program penguin_curves_f
