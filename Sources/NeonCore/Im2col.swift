/// The convolution as a matrix product: im2col lays the kh x kw x I receptive fields of one
/// sample side by side, so that conv2d = W (O x I kh kw) . cols (I kh kw x Ho Wo), one GEMM; col2im
/// is its adjoint (scatter-add back onto the image), used by the backward (LRP) pass.
enum Im2col {
    struct Geometry {
        let channels: Int, height: Int, width: Int
        let kh: Int, kw: Int, stride: Int, padding: Int
        let outHeight: Int, outWidth: Int
        var rows: Int { channels * kh * kw }
        var columns: Int { outHeight * outWidth }
    }

    /// cols[(c kh + i) kw + j, oy Wo + ox] = x[c, oy s + i - p, ox s + j - p] (0 outside).
    /// `ld`: the row stride of cols (several samples side by side: ld = samples x Ho Wo).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func im2col<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, _ g: Geometry, into cols: UnsafeMutablePointer<T>,
                                               ld: Int? = nil) {
        let P = ld ?? g.columns
        for c in 0..<g.channels {
            let plane = x + c * g.height * g.width
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    let row = cols + ((c * g.kh + i) * g.kw + j) * P
                    for oy in 0..<g.outHeight {
                        let y = oy * g.stride + i - g.padding
                        let dst = row + oy * g.outWidth
                        if y < 0 || y >= g.height {
                            dst.update(repeating: 0, count: g.outWidth)
                            continue
                        }
                        let src = plane + y * g.width
                        if g.stride == 1 {
                            // x index = ox + j - p: copy the valid span, zero the borders.
                            let lo = max(0, g.padding - j), hi = min(g.outWidth, g.width + g.padding - j)
                            if lo > 0 { dst.update(repeating: 0, count: lo) }
                            if hi > lo { (dst + lo).update(from: src + (lo + j - g.padding), count: hi - lo) }
                            if hi < g.outWidth { (dst + max(hi, lo)).update(repeating: 0, count: g.outWidth - max(hi, lo)) }
                        } else {
                            for ox in 0..<g.outWidth {
                                let xx = ox * g.stride + j - g.padding
                                dst[ox] = xx >= 0 && xx < g.width ? src[xx] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col: image[c, y, x] = sum of the cols entries that im2col copied from it.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func col2im<T: BinaryFloatingPoint>(_ cols: UnsafePointer<T>, _ g: Geometry, into image: UnsafeMutablePointer<T>,
                                               ld: Int? = nil) {
        let P = ld ?? g.columns
        image.update(repeating: 0, count: g.channels * g.height * g.width)
        for c in 0..<g.channels {
            let plane = image + c * g.height * g.width
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    let row = cols + ((c * g.kh + i) * g.kw + j) * P
                    for oy in 0..<g.outHeight {
                        let y = oy * g.stride + i - g.padding
                        guard y >= 0 && y < g.height else { continue }
                        let dst = plane + y * g.width, src = row + oy * g.outWidth
                        if g.stride == 1 {
                            // the valid span of im2col (x index = ox + j - p), without per-element tests
                            let lo = max(0, g.padding - j), hi = min(g.outWidth, g.width + g.padding - j)
                            if hi > lo {
                                let d = dst + (lo + j - g.padding), s = src + lo
                                for t in 0..<(hi - lo) { d[t] += s[t] }
                            }
                        } else {
                            for ox in 0..<g.outWidth {
                                let xx = ox * g.stride + j - g.padding
                                if xx >= 0 && xx < g.width { dst[xx] += src[ox] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Direct (loop) convolution in float64: the reference the im2col/GEMM path is tested against.
public enum NaiveConvolution {
    /// out[o, oy, ox] = b[o] + sum_{c,i,j} w[o, c, i, j] x[c, oy s + i - p, ox s + j - p].
    public static func forward(_ x: [Double], channels: Int, height: Int, width: Int, layer l: Conv2DLayer) -> [Double] {
        let ho = (height + 2 * l.padding - l.kernelHeight) / l.stride + 1
        let wo = (width + 2 * l.padding - l.kernelWidth) / l.stride + 1
        var out = [Double](repeating: 0, count: l.outChannels * ho * wo)
        for o in 0..<l.outChannels {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var s = l.bias[o]
                    for c in 0..<channels {
                        for i in 0..<l.kernelHeight {
                            for j in 0..<l.kernelWidth {
                                let y = oy * l.stride + i - l.padding, xx = ox * l.stride + j - l.padding
                                guard y >= 0, y < height, xx >= 0, xx < width else { continue }
                                s += l.weight[((o * channels + c) * l.kernelHeight + i) * l.kernelWidth + j]
                                    * x[(c * height + y) * width + xx]
                            }
                        }
                    }
                    out[(o * ho + oy) * wo + ox] = s
                }
            }
        }
        return out
    }
}
