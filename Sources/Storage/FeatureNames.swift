import Foundation

/// Names of the input features, when the input file provides them (docs/file-formats.md): the
/// attribute `feature_names` of the input dataset, a dataset `feature_names` beside the input
/// dataset (same group), or a root attribute `feature_names`; the first that exists is used.
public enum FeatureNames {
    public struct Found: Sendable {
        /// d names, or nil when the input has none (or they could not be used: see `note`).
        public let names: [String]?
        /// Where the names came from, or why there are none.
        public let note: String
    }

    public static func read(inputPath: String, dataset: String, count: Int) -> Found {
        let file: StoredFile
        do { file = try StoredFile(path: inputPath) } catch {
            return Found(names: nil, note: "input file not readable (\((error as? StorageError)?.message ?? "\(error)")); features are numbered")
        }
        let group = (dataset as NSString).deletingLastPathComponent
        let sibling = group.isEmpty || group == "/" ? "feature_names" : "\(group)/feature_names"
        let places: [(String, () throws -> [String]?)] = [
            ("attribute 'feature_names' of dataset '\(dataset)'", { try file.strings(attribute: "feature_names", of: dataset) }),
            ("dataset '\(sibling)'", { try file.strings(dataset: sibling) }),
            ("root attribute 'feature_names'", { try file.strings(attribute: "feature_names") }),
        ]
        for (place, read) in places {
            let names: [String]?
            do { names = try read() } catch {
                return Found(names: nil, note: "\(inputPath): \(place) is not usable (\((error as? StorageError)?.message ?? "\(error)")); features are numbered")
            }
            guard let n = names else { continue }
            guard n.count == count else {
                return Found(names: nil, note: "\(inputPath): \(place) has \(n.count) names for \(count) features; features are numbered")
            }
            return Found(names: n, note: "\(inputPath): \(place)")
        }
        return Found(names: nil, note: "the input has no feature_names; features are numbered")
    }
}
