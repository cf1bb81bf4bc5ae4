import Distributed
import Foundation
import NeonCore
import Storage

extension JobRunner {
    /// execution.read: the input opened by every rank through MPI-IO for parallel reads, or nil
    /// for root reads. "auto" reads in parallel when there are several ranks and every rank sees
    /// the input file rank 0 checked (same size and modification time: a shared or parallel file
    /// system); "parallel" requires that and fails on every rank otherwise. Collective.
    func openParallelInput(_ s: Shared) throws -> InputDataset? {
        let mode = s.job.readMode
        if mode == .root || (mode == .auto && comm.size == 1) { return nil }
        let path = s.job.inputFile
        let seen = Self.fileSignature(path)
        let rootSeen = comm.broadcast(seen ?? [-1, -1])
        var why: String?
        if seen == nil {
            why = "rank \(comm.rank) cannot read \(path)"
        } else if seen! != rootSeen {
            why = "rank \(comm.rank) sees a different \(path) than rank 0 (size or modification time)"
        }
        if mode == .auto {
            if comm.allreduceMax(why == nil ? 0 : 1) == 1 { return nil }
        } else {
            try check(why.map { "execution.read \"parallel\": \($0); use \"root\" when only rank 0 sees the input" })
        }
        var input: InputDataset?
        var err: String?
        do { input = try InputDataset(path: path, dataset: s.job.inputDataset, communicator: comm) } catch { err = message(error) }
        try check(err)
        return input
    }

    /// Size and modification time (ns) of a readable regular file, or nil.
    static func fileSignature(_ path: String) -> [Int64]? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(path, R_OK) == 0 else { return nil }
        return [Int64(st.st_size), Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)]
    }
}
