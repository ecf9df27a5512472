! example_support.f90: what the Fortran examples share, as two modules.
!   curves_io   read_curves: the bundled learning curves from a long-format CSV
!               (penguin_curves.f90, user_function.f90)
!   self_check  expect and its counters: the self-checking programs
!               (api_check.f90, user_function.f90)
! Each program brings it in with the line `include 'example_support.f90'`
! before its own program unit, so it is compiled with the program (the
! compiler finds it next to the program's source) and the one-line builds
! (gfortran $(pkg-config --variable=fortran_source penguin) PROGRAM.f90 ...),
! CMakeLists.txt and the Makefile need no extra source or object.
! Needs nothing from the module `penguin`.

module curves_io
  use, intrinsic :: iso_c_binding, only: c_double
  implicit none
  private
  public :: read_curves

contains

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

end module curves_io

module self_check
  implicit none
  private
  public :: expect
  !> How many checks ran and how many of them failed; a program reports them
  !> at the end ("NAME: N checks, M failed").
  integer, public :: checks = 0, failures = 0

contains

  !> Counts a check; prints "FAILED: what" when ok is false.
  subroutine expect(ok, what)
    logical, intent(in) :: ok
    character(len=*), intent(in) :: what
    checks = checks + 1
    if (.not. ok) then
       failures = failures + 1
       write (*, '(2a)') 'FAILED: ', what
    end if
  end subroutine expect

end module self_check
