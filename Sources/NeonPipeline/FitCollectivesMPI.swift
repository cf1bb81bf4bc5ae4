import Distributed
import NeonCore

/// The fit's collectives over MPI: sums gathered and added on rank 0 in rank order, then
/// broadcast (bit-identical on every rank), gathers to rank 0, broadcasts from rank 0.
final class MPIFitCollectives: FitCollectives {
    let comm: Communicator
    init(_ comm: Communicator) { self.comm = comm }
    var rank: Int { comm.rank }
    var size: Int { comm.size }
    func sum(_ values: inout [Double]) { comm.orderedSum(&values) }
    func broadcastFromRoot(_ values: inout [Double]) { values = comm.broadcast(values) }
    func gatherToRoot(_ local: [Double]) -> [Double] { comm.gatherToRoot(local) }
}
