/// A problem with a job, model, input or output file. The message is one line for the user and
/// names the file (absolute path) and, where there is one, the dataset, attribute or job key.
public struct StorageError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
