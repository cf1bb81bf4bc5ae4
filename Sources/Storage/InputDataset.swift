import Distributed

/// The input samples: a 2-D dataset (N, d) or a 4-D one (N, C, H, W) of float32 or float64, read in
/// row blocks (a row is one sample: d = C H W values, row-major): by rank 0 alone, or by every rank
/// of a communicator, each its own rows, through MPI-IO (execution.read "parallel").
public final class InputDataset {
    public let path: String
    public let datasetName: String
    public var rows: Int { matrix.rows }
    public var features: Int { matrix.columns }
    public var element: ElementType { matrix.element }
    /// [d] or [C, H, W].
    public var sampleShape: [Int] { matrix.sampleShape }
    private let file: H5ReadFile
    private let matrix: H5Matrix

    /// `communicator`: open collectively through MPI-IO; every rank then calls every `read`.
    public init(path: String, dataset: String, communicator: Communicator? = nil) throws {
        file = try H5ReadFile(path: path, role: "input", communicator: communicator)
        matrix = try file.matrix(dataset, allowSamples4D: true)
        self.path = path
        datasetName = dataset
        guard matrix.rows > 0 else { throw StorageError("\(path): dataset '\(dataset)' has no rows") }
        guard matrix.columns > 0 else { throw StorageError("\(path): dataset '\(dataset)' has no features") }
    }

    /// Reads rows [start, start + count) into `buffer` (count x features elements of `element`).
    /// Opened with a communicator, every rank calls it (count may be 0).
    public func read(rows start: Int, count: Int, into buffer: UnsafeMutableRawPointer) throws {
        try matrix.read(rows: start, count: count, into: buffer)
    }

    /// "the message for a non-finite value in row `row`"
    public func nonFiniteMessage(row: Int) -> String {
        "\(path): dataset '\(datasetName)' row \(row) holds NaN or Inf"
    }
}
