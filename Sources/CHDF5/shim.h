// Thin shim over parallel HDF5 (openmpi flavour): the H5T_NATIVE_* and H5P_*
// class identifiers are macros that trigger library initialisation, which Swift
// cannot import; expose them as functions.
#ifndef NEON_CHDF5_SHIM_H
#define NEON_CHDF5_SHIM_H
#include <hdf5.h>
#include <hdf5_hl.h>   /* H5DS: dimension scales (high-level library) */

static inline hid_t neon_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t neon_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t neon_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t neon_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t neon_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t neon_h5p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t neon_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t neon_h5p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline hid_t neon_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t neon_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t neon_h5s_all(void) { return H5S_ALL; }
static inline hid_t neon_h5e_default(void) { return H5E_DEFAULT; }
static inline unsigned neon_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned neon_h5f_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned neon_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned neon_h5f_acc_excl(void) { return H5F_ACC_EXCL; }

/* Silence HDF5's own error-stack printing: neon-batch reports one line itself. */
static inline void neon_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* File access through MPI-IO on the given communicator (collective open/create). */
static inline herr_t neon_h5_set_fapl_mpio(hid_t fapl, MPI_Comm comm) {
    return H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
}
static inline herr_t neon_h5_set_dxpl_collective(hid_t dxpl) {
    return H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
}

/* Space reservation for an output file (RelevanceOutput): fallocate(2) through syscall(2), which
 * Swift's Glibc module does not declare. Return 0 or the errno. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Allocates the blocks of bytes [0, bytes) of the file that are not allocated yet, without
 * changing its size (FALLOC_FL_KEEP_SIZE = 1): later writes there cannot fail for lack of space. */
static inline int neon_reserve_space(const char *path, long long bytes) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = syscall(SYS_fallocate, fd, 1, (off_t)0, (off_t)bytes) == 0 ? 0 : errno;
    close(fd);
    return err;
}

/* Frees what a reservation left allocated beyond the end of the file: ftruncate to the same size
 * (ext4, xfs drop blocks past the end) and a punched hole there (tmpfs; FALLOC_FL_PUNCH_HOLE |
 * FALLOC_FL_KEEP_SIZE = 3). */
static inline int neon_release_space(const char *path, long long reserved) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    struct stat st;
    int err = 0;
    if (fstat(fd, &st) != 0 || ftruncate(fd, st.st_size) != 0) err = errno;
    else if (reserved > st.st_size && syscall(SYS_fallocate, fd, 3, st.st_size, (off_t)(reserved - st.st_size)) != 0)
        err = errno;
    close(fd);
    return err;
}
#endif
