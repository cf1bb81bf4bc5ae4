# Sourced by setup.sh and test.sh: the libraries a build uses, as one "flavour" (docs/installing.md).
#   neon_flavour MPI BLAS   MPI: openmpi (default) | mpich | wrapper;  BLAS: openblas (default) | blis | mkl
# sets, for Package.swift: NEON_MPI_PKG, NEON_HDF5_PKG, NEON_BLAS, NEON_BLAS_PKG, PKG_CONFIG_PATH;
# for the scripts: NEON_SCRATCH (the build folder: .build for the default, .build/<flavour> otherwise),
# NEON_DEBIAN_PACKAGES (what Debian packages provide it), NEON_LINK_FLAGS (extra swift build flags),
# NEON_LAUNCHER (the flavour's mpiexec).
# Variables the user already set (NEON_MPI_PKG, NEON_HDF5_PKG, NEON_BLAS_PKG) win.
neon_flavour() {
  local mpi=${1:-openmpi} blas=${2:-openblas}
  local root; root=$(pwd)
  local pcdir="$root/.build/pkgconfig"
  NEON_DEBIAN_PACKAGES=(pkg-config libpng-dev hdf5-tools)
  NEON_LINK_FLAGS=()
  case $mpi in
    openmpi)
      : "${NEON_MPI_PKG:=ompi-c}" "${NEON_HDF5_PKG:=hdf5-openmpi}"
      NEON_LAUNCHER=mpirun.openmpi
      NEON_DEBIAN_PACKAGES+=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev) ;;
    mpich)
      : "${NEON_MPI_PKG:=mpich}" "${NEON_HDF5_PKG:=hdf5-mpich}"
      NEON_LAUNCHER=mpiexec.mpich
      NEON_DEBIAN_PACKAGES+=(mpich libmpich-dev libhdf5-mpich-dev) ;;
    wrapper)
      # A site's MPI and parallel HDF5 (modules, Spack): their compiler wrappers say how to build.
      neon_pc_from_wrapper "${MPICC:-mpicc}" neon-mpi "$pcdir" || return 1
      neon_pc_from_wrapper "${H5PCC:-h5pcc}" neon-hdf5 "$pcdir" || return 1
      # SwiftPM does not notice that the same .pc names now say something else (another module
      # loaded): objects built against the other MPI would be linked. Start afresh when they changed.
      local stamp; stamp=$(cat "$pcdir/neon-mpi.pc" "$pcdir/neon-hdf5.pc" | cksum)
      if [[ -d $root/.build/wrapper && $(cat "$root/.build/wrapper/.neon-wrappers" 2>/dev/null) != "$stamp" ]]; then
        echo "neon-batch: the compiler wrappers changed: building .build/wrapper from scratch" >&2
        rm -rf "$root/.build/wrapper"
      fi
      mkdir -p "$root/.build/wrapper" && echo "$stamp" >"$root/.build/wrapper/.neon-wrappers"
      : "${NEON_MPI_PKG:=neon-mpi}" "${NEON_HDF5_PKG:=neon-hdf5}"
      NEON_LAUNCHER=${NEON_LAUNCHER:-mpiexec}
      NEON_DEBIAN_PACKAGES=() ;;
    *) echo "neon-batch: unknown MPI '$mpi' (use openmpi, mpich or wrapper)" >&2; return 1 ;;
  esac
  case $blas in
    openblas)
      [[ $mpi == wrapper ]] || NEON_DEBIAN_PACKAGES+=(libopenblas-dev) ;;
    blis)
      # Debian's BLIS has no .pc file: describe its single-threaded build (Dispatch does the threading).
      local inc=/usr/include/x86_64-linux-gnu/blis-serial lib=/usr/lib/x86_64-linux-gnu/blis-serial
      mkdir -p "$pcdir"
      printf 'Name: neon-blis\nDescription: BLIS (serial) for neon-batch\nVersion: 0\nCflags: -I%s\nLibs: -L%s -lblis\n' \
        "${NEON_BLIS_INCLUDE:-$inc}" "${NEON_BLIS_LIB:-$lib}" > "$pcdir/neon-blis.pc"
      NEON_DEBIAN_PACKAGES+=(libblis-serial-dev)
      # libblis.so.4 is an alternative that may point at the OpenMP build: load the serial one.
      NEON_LINK_FLAGS+=(-Xlinker -rpath -Xlinker "${NEON_BLIS_LIB:-$lib}") ;;
    mkl)
      # oneMKL, sequential layer: a site's (MKLROOT, from its module) or PyPI's mkl-devel wheel
      # installed into .build/deps/mkl. SwiftPM takes only -L/-l flags from pkg-config (the wheel's
      # .pc files name the libraries by path), so neon-mkl.pc is written here.
      local prefix=${MKLROOT:-$root/.build/deps/mkl} libdir
      if [[ -z ${MKLROOT:-} && ! -e $prefix/include/mkl.h ]]; then
        echo "neon-batch: installing oneMKL (pip mkl-devel, ~1 GB) into $prefix" >&2
        python3 -m pip install --quiet --disable-pip-version-check --prefix "$prefix" mkl-devel >&2 || return 1
      fi
      libdir=$prefix/lib
      [[ -d $prefix/lib/intel64 ]] && libdir=$prefix/lib/intel64
      local l
      for l in mkl_intel_lp64 mkl_sequential mkl_core; do   # the wheel ships only lib*.so.N
        [[ -e $libdir/lib$l.so ]] || ln -sf "$(cd "$libdir" && ls lib$l.so.* | sort | tail -1)" "$libdir/lib$l.so"
      done
      mkdir -p "$pcdir"
      printf 'Name: neon-mkl\nDescription: oneMKL (LP64, sequential) for neon-batch\nVersion: 0\nCflags: -I%s\nLibs: -L%s -lmkl_intel_lp64 -lmkl_sequential -lmkl_core -lpthread -lm -ldl\n' \
        "$prefix/include" "$libdir" > "$pcdir/neon-mkl.pc"
      NEON_LINK_FLAGS+=(-Xlinker -rpath -Xlinker "$libdir") ;;
    *) echo "neon-batch: unknown BLAS '$blas' (use openblas, blis or mkl)" >&2; return 1 ;;
  esac
  NEON_BLAS=$blas
  PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  local name=""
  [[ $mpi != openmpi ]] && name=$mpi
  [[ $blas != openblas ]] && name=${name:+$name-}$blas
  NEON_SCRATCH=.build${name:+/$name}
  export NEON_MPI_PKG NEON_HDF5_PKG NEON_BLAS PKG_CONFIG_PATH
  [[ -n ${NEON_BLAS_PKG:-} ]] && export NEON_BLAS_PKG
  return 0
}

# neon_pc_from_wrapper WRAPPER NAME DIR: a pkg-config file NAME.pc in DIR with the include and
# library flags that the compiler wrapper WRAPPER (mpicc -show, h5pcc -show) passes; its library
# folders also go into NEON_LINK_FLAGS as rpaths (the binary finds them without the module loaded).
neon_pc_from_wrapper() {
  local wrapper=$1 name=$2 dir=$3 line
  command -v "$wrapper" >/dev/null || { echo "neon-batch: $wrapper not found (load the MPI / parallel HDF5 module, or set MPICC / H5PCC)" >&2; return 1; }
  line=$("$wrapper" -show 2>/dev/null || "$wrapper" -showme 2>/dev/null) || { echo "neon-batch: $wrapper -show failed" >&2; return 1; }
  local cflags=() libs=() w lib
  for w in $line; do
    case $w in
      -I*|-D*) cflags+=("$w") ;;
      -Wl,-z,*) ;;                      # hardening flags: SwiftPM refuses them in .pc files
      -L*) libs+=("$w"); neon_rpath "${w#-L}" ;;   # found at run time too
      -l*|-Wl,*|-pthread) libs+=("$w") ;;
      /*/lib*.a|/*/lib*.so)             # a library by path (h5pcc -show names libhdf5.a so): -L -l,
        lib=${w##*/lib}; lib=${lib%.*}    # which links the shared one when it is there
        libs+=("-L${w%/*}" "-l$lib"); neon_rpath "${w%/*}" ;;
    esac
  done
  mkdir -p "$dir"
  printf 'Name: %s\nDescription: from %s -show\nVersion: 0\nCflags: %s\nLibs: %s\n' "$name" "$wrapper" "${cflags[*]}" "${libs[*]}" > "$dir/$name.pc"
}

# neon_rpath DIR: the binary looks for libraries in DIR at run time (once in NEON_LINK_FLAGS).
neon_rpath() {
  [[ " ${NEON_LINK_FLAGS[*]} " == *" $1 "* ]] || NEON_LINK_FLAGS+=(-Xlinker -rpath -Xlinker "$1")
}

# neon_have_packages: true when pkg-config finds every library of the flavour (nothing to install).
neon_have_packages() {
  local p
  for p in "$NEON_MPI_PKG" "$NEON_HDF5_PKG" "${NEON_BLAS_PKG:-$( case $NEON_BLAS in openblas) echo openblas;; blis) echo neon-blis;; mkl) echo neon-mkl;; esac)}" libpng; do
    pkg-config --exists "$p" || return 1
  done
  [[ $NEON_BLAS != blis ]] || [[ -e "$(pkg-config --variable=pcfiledir neon-blis)/neon-blis.pc" && -d ${NEON_BLIS_INCLUDE:-/usr/include/x86_64-linux-gnu/blis-serial} ]]
}
