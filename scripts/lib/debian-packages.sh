# Sourced by the project's scripts: ensure_debian_packages LABEL PACKAGE... installs the
# Debian packages that are not installed yet (apt-get update first; sudo when not root).
ensure_debian_packages() {
  local label=$1; shift
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "$label: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What the Python package in python/ (neon_batch) needs from Debian for its tests (scripts/test-python.sh).
TOOLS_PYTHON_PACKAGES=(python3-h5py python3-xarray python3-sklearn python3-h5netcdf python3-torch)
