// Thin shim over libpng's simplified API (libpng >= 1.6): it handles libpng's setjmp/longjmp
// errors internally, which Swift cannot, and the PNG_FORMAT_* macros become functions.
#ifndef NEON_CPNG_SHIM_H
#define NEON_CPNG_SHIM_H
#include <png.h>
#include <stdlib.h>
#include <string.h>

/* Writes 8-bit RGB pixels (rows top to bottom, 3 bytes a pixel) to a PNG file. Returns 0 on
   success, otherwise copies libpng's message into `message` (size `size`) and returns -1. */
static inline int neon_png_write_rgb(const char *path, unsigned width, unsigned height,
                                     const unsigned char *pixels, char *message, size_t size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = PNG_FORMAT_RGB;
    if (png_image_write_to_file(&image, path, 0, pixels, 0, NULL)) return 0;
    strncpy(message, image.message, size - 1);
    message[size - 1] = 0;
    return -1;
}

/* Reads a PNG file as 8-bit RGB: *pixels is malloc'ed (free with free()). 0 on success. */
static inline int neon_png_read_rgb(const char *path, unsigned *width, unsigned *height,
                                    unsigned char **pixels, char *message, size_t size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    *pixels = NULL;
    if (png_image_begin_read_from_file(&image, path)) {
        image.format = PNG_FORMAT_RGB;
        *pixels = malloc(PNG_IMAGE_SIZE(image));
        if (*pixels && png_image_finish_read(&image, NULL, *pixels, 0, NULL)) {
            *width = image.width;
            *height = image.height;
            return 0;
        }
        free(*pixels);
        *pixels = NULL;
    }
    strncpy(message, image.message, size - 1);
    message[size - 1] = 0;
    png_image_free(&image);
    return -1;
}
#endif
