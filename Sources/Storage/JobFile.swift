// Reading a job file (explain, evaluate or fit) and resolving the paths it names.

import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension JobSpec {
    /// Reads the job file at `path` (relative paths resolve against the current directory) and parses it.
    public static func load(path: String) throws -> JobSpec {
        try parse(text: readJobText(path), jobPath: absolutePath(path, base: nil))
    }

    /// The UTF-8 text of the job file at `path`.
    static func readJobText(_ path: String) throws -> String {
        let absolute = absolutePath(path, base: nil)
        let bytes = try readJobFile(absolute)
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else {
            throw JobError(message: "\(label(absolute)): job file is not UTF-8 text")
        }
        return text
    }

    /// The message prefix for a job path.
    static func label(_ absoluteJobPath: String) -> String {
        absoluteJobPath.isEmpty ? "<job>" : JSONValue.displayEscaped(absoluteJobPath)
    }

    /// `path` made absolute (against `base`, or the current directory when nil) and standardized
    /// lexically: "." and empty components removed, ".." removes the previous component (not
    /// beyond "/"), no trailing slash. Symbolic links are not resolved (like
    /// `URL(fileURLWithPath:).standardizedFileURL.path`).
    static func absolutePath(_ path: String, base: String?) -> String {
        if path.hasPrefix("/") { return standardize(path) }
        let directory = base ?? FileManager.default.currentDirectoryPath
        return standardize(directory + "/" + path)
    }

    static func standardize(_ absolutePath: String) -> String {
        var components: [Substring] = []
        for component in absolutePath.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                if !components.isEmpty { components.removeLast() }
                continue
            }
            components.append(component)
        }
        return "/" + components.joined(separator: "/")
    }

    static func parentDirectory(of absolutePath: String) -> String {
        let standardized = standardize(absolutePath)
        guard let slash = standardized.lastIndex(of: "/"), slash != standardized.startIndex else { return "/" }
        return String(standardized[..<slash])
    }

    // MARK: - Reading

    /// What kind of job file `path` is, going by its top-level sections, with the command that
    /// runs it: ("a fit job", "fit"), ("an evaluation job", "evaluate"), ("a job file", "run"); nil
    /// if it is not a JSON object (or cannot be read).
    public static func kind(ofJobFile path: String) -> (name: String, command: String)? {
        guard let bytes = try? readJobFile(absolutePath(path, base: nil)), let root = try? JSONParser.parse(bytes),
              case .object = root else { return nil }
        if root[member: "fit"] != nil { return ("a fit job", "fit") }
        if root[member: "evaluate"] != nil { return ("an evaluation job", "evaluate") }
        return ("a job file", "run")
    }

    static func readJobFile(_ absolutePath: String) throws -> [UInt8] {
        let prefix = label(absolutePath)
        func cannotRead(_ code: Int32) -> JobError {
            JobError(message: "\(prefix): cannot read job file (\(String(cString: strerror(code))))")
        }

        var info = stat()
        if stat(absolutePath, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw JobError(message: "\(prefix): job file does not exist") }
            throw cannotRead(code)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw JobError(message: "\(prefix): job file is a directory") }

        var descriptor: Int32
        repeat {
            descriptor = open(absolutePath, O_RDONLY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        if descriptor < 0 { throw cannotRead(errno) }
        defer { close(descriptor) }

        let limit = maxJobFileBytes + 1  // read one byte more than allowed to detect larger files
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while bytes.count < limit {
            let wanted = min(chunk.count, limit - bytes.count)
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                throw cannotRead(code)
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        // An HDF5 file (its signature at offset 0) given where a job file belongs.
        if bytes.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]) {
            throw JobError(message: "\(prefix): an HDF5 file, not a job file (JSON): look at an output with `neon-batch inspect \(prefix)`; a job file names input and model files (`neon-batch demo DIR` writes an example)")
        }
        if bytes.count > maxJobFileBytes {
            let size = maxJobFileBytes % (1 << 20) == 0 ? "\(maxJobFileBytes >> 20) MiB" : "\(maxJobFileBytes) bytes"
            throw JobError(message: "\(prefix): job file is larger than \(size)")
        }
        return bytes
    }
}
