// swift-tools-version:5.10
// neon-batch: NEON cluster explanations (Kauffmann et al.) at scale with MPI, parallel HDF5 and BLAS.
import PackageDescription

let package = Package(
    name: "neon-batch",
    products: [
        .executable(name: "neon-batch", targets: ["neon-batch"]),
        .executable(name: "neon-bench", targets: ["neon-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Thin C shims over the system libraries (only what Swift cannot import).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-openmpi",
                       providers: [.apt(["libhdf5-openmpi-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // Vectorised element-wise kernels of the fast path (min-take-most over a tile).
        .target(name: "NeonKernels", path: "Sources/NeonKernels"),

        .target(name: "Distributed", dependencies: ["CMPI"]),
        .target(name: "NeonCore", dependencies: ["CBLAS", "NeonKernels"]),
        .target(name: "Storage", dependencies: ["CHDF5", "Distributed"]),
        // Pictures of explanations: heatmaps (PNG via libpng), SVG bar charts, index.html.
        .target(name: "Rendering", dependencies: ["CPNG"]),
        .executableTarget(name: "neon-batch", dependencies: [
            "Distributed", "Storage", "NeonCore", "Rendering",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Benchmark: fast-path GFLOP/s over the sgemm ceiling measured in the same process.
        .executableTarget(name: "neon-bench", dependencies: ["NeonCore", "Storage", "CBLAS"]),

        .testTarget(name: "NeonCoreTests", dependencies: ["NeonCore"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Distributed"]),
        .testTarget(name: "NeonBatchTests", dependencies: ["neon-batch", "Storage", "Distributed", "NeonCore", "Rendering"]),
    ]
)
