// swift-tools-version:5.10
// neon-batch: NEON cluster explanations (Kauffmann et al.) at scale with MPI, parallel HDF5 and BLAS.
import PackageDescription
import Foundation

// Where MPI, parallel HDF5 and BLAS come from is a setting (docs/installing.md): pkg-config names in
// the environment, Debian's Open MPI stack and OpenBLAS by default. scripts/setup.sh sets these for
// `--mpi mpich`, `--blas blis|mkl` and for libraries found through compiler wrappers (modules, Spack).
let environment = ProcessInfo.processInfo.environment
func setting(_ name: String, _ fallback: String) -> String {
    guard let v = environment[name], !v.isEmpty else { return fallback }
    return v
}
/// The BLAS: "openblas" (default), "blis" or "mkl"; each has its shim in Sources/CBLAS/<name>.
let blas = setting("NEON_BLAS", "openblas")
let blasShims = ["openblas": "openblas", "blis": "neon-blis", "mkl": "neon-mkl"]
guard let blasDefaultPackage = blasShims[blas] else {
    fatalError("NEON_BLAS=\(blas): use openblas, blis or mkl")
}
let mpiPackage = setting("NEON_MPI_PKG", "ompi-c")
let hdf5Package = setting("NEON_HDF5_PKG", "hdf5-openmpi")
let blasPackage = setting("NEON_BLAS_PKG", blasDefaultPackage)

let package = Package(
    name: "neon-batch",
    products: [
        .executable(name: "neon-batch", targets: ["neon-batch"]),
        .executable(name: "neon-bench", targets: ["neon-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Thin C shims over the system libraries (only what Swift cannot import).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: mpiPackage,
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: hdf5Package,
                       providers: [.apt(["libhdf5-openmpi-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS/\(blas)", pkgConfig: blasPackage,
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        // Vectorised element-wise kernels of the fast path (min-take-most over a tile).
        .target(name: "NeonKernels", path: "Sources/NeonKernels"),

        // The closed sets of job-file names (method, kernel rule, LRP rules, read mode...) shared by
        // the parser (Storage) and NeonCore; no dependencies.
        .target(name: "NeonSettings"),
        .target(name: "Distributed", dependencies: ["CMPI"]),
        .target(name: "NeonCore", dependencies: ["CBLAS", "NeonKernels", "NeonSettings"]),
        .target(name: "Storage", dependencies: ["CHDF5", "Distributed", "NeonSettings"]),
        // Pictures of explanations: heatmaps (PNG via libpng), SVG bar charts, index.html.
        .target(name: "Rendering", dependencies: ["CPNG"]),
        // The pipeline behind the commands (run, evaluate, fit, inspect, render, join), testable in-process.
        .target(name: "NeonPipeline", dependencies: ["Distributed", "Storage", "NeonCore", "Rendering"]),
        // The command line only: ArgumentParser commands on top of NeonPipeline.
        .executableTarget(name: "neon-batch", dependencies: [
            "NeonPipeline", "Distributed", "Storage", "NeonCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmark: fast-path GFLOP/s over the sgemm ceilings and the FMA peak measured in the same process.
        .executableTarget(name: "neon-bench", dependencies: ["NeonCore", "Storage", "NeonPipeline", "HardwarePeak"]),
        // The CPU's FMA peak and clock, measured by short loops (benchmarks only).
        .target(name: "HardwarePeak", path: "Sources/HardwarePeak"),

        // Helpers shared by the test targets: temporary directories, HDF5 fixture files.
        .target(name: "NeonTestSupport", dependencies: ["Storage"], path: "Tests/NeonTestSupport"),
        .testTarget(name: "NeonCoreTests", dependencies: ["NeonCore"]),
        .testTarget(name: "NeonKernelsTests", dependencies: ["NeonKernels", "NeonCore"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "Distributed", "NeonSettings", "NeonTestSupport"]),
        .testTarget(name: "RenderingTests", dependencies: ["Rendering", "NeonTestSupport"]),
        .testTarget(name: "NeonPipelineTests", dependencies: ["NeonPipeline", "Storage", "Distributed", "NeonCore", "NeonTestSupport"]),
        .testTarget(name: "NeonBatchTests", dependencies: ["neon-batch", "Storage", "Distributed", "NeonCore", "Rendering",
                                                          "NeonTestSupport"]),
    ]
)
