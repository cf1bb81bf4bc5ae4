import CHDF5
import Foundation

/// Named axes for the output datasets: HDF5 Dimension Scales (high-level H5DS API) in the
/// netCDF-4 layout, so that h5py shows `f["relevance"].dims[i].label` and xarray (h5netcdf engine)
/// opens `relevance` with dimensions (sample, feature). Each axis is a dataset of that name at the
/// root that holds no data ("a netCDF dimension but not a netCDF variable": no storage is
/// allocated in a serial file), marked as a scale, attached to and labelled on every dataset that
/// has the axis.
enum DimensionScales {
    /// The axis names of the output datasets, by rank (spatial relevance: docs/file-formats.md).
    static func axes(of dataset: String, rank: Int) -> [String]? {
        switch (dataset, rank) {
        case (RelevanceOutput.relevanceDataset, 2): return ["sample", "feature"]
        case (RelevanceOutput.relevanceDataset, 3): return ["sample", "target", "feature"]
        case (RelevanceOutput.logitDataset, 2): return ["sample", "target"]
        case (RelevanceOutput.channelsDataset, 2): return ["sample", "channel"]
        case (RelevanceOutput.channelsDataset, 3): return ["sample", "target", "channel"]
        case (RelevanceOutput.relevanceDataset, 4): return ["sample", "channel", "y", "x"]
        case (RelevanceOutput.relevanceDataset, 5): return ["sample", "target", "channel", "y", "x"]
        case (RelevanceOutput.assignmentDataset, 1), (RelevanceOutput.logitDataset, 1): return ["sample"]
        default: return nil
        }
    }

    /// Attaches the axes to relevance, assignment and logit of a file opened by one process.
    /// Safe to repeat (scales that exist are reused, attached ones left as they are).
    static func attach(_ file: H5WriteFile) throws {
        var sizes: [String: Int] = [:]
        for name in [RelevanceOutput.relevanceDataset, RelevanceOutput.assignmentDataset, RelevanceOutput.logitDataset,
                     RelevanceOutput.channelsDataset] {
            guard H5Lexists(file.id, name, neon_h5p_default()) > 0 else { continue }
            let ds = H5Handle(dataset: H5Dopen2(file.id, name, neon_h5p_default()))
            guard ds.isValid else { throw StorageError("\(file.path): cannot open dataset '\(name)'") }
            let space = H5Handle(dataspace: H5Dget_space(ds.id))
            var dims = [hsize_t](repeating: 0, count: 8)
            let rank = Int(H5Sget_simple_extent_dims(space.id, &dims, nil))
            space.close()
            guard let axes = axes(of: name, rank: rank) else { continue }
            for (i, axis) in axes.enumerated() {
                if let known = sizes[axis], known != Int(dims[i]) {
                    throw StorageError("\(file.path): dataset '\(name)' has \(dims[i]) along '\(axis)' but another dataset \(known)")
                }
                sizes[axis] = Int(dims[i])
                let scale = try openScale(file, axis, size: Int(dims[i]))
                if H5DSis_attached(ds.id, scale.id, UInt32(i)) <= 0 {
                    guard H5DSattach_scale(ds.id, scale.id, UInt32(i)) >= 0 else {
                        throw StorageError("\(file.path): cannot attach dimension scale '\(axis)' to dataset '\(name)'")
                    }
                }
                guard H5DSset_label(ds.id, UInt32(i), axis) >= 0 else {
                    throw StorageError("\(file.path): cannot label dimension \(i) of dataset '\(name)'")
                }
            }
        }
    }

    /// The scale dataset of an axis, created without data if it does not exist yet.
    private static func openScale(_ file: H5WriteFile, _ axis: String, size: Int) throws -> H5Handle {
        if H5Lexists(file.id, axis, neon_h5p_default()) > 0 {
            let ds = H5Handle(dataset: H5Dopen2(file.id, axis, neon_h5p_default()))
            guard ds.isValid, H5DSis_scale(ds.id) > 0 else {
                throw StorageError("\(file.path): '\(axis)' exists and is not a dimension scale")
            }
            return ds
        }
        var dims = [hsize_t(size)]
        let space = H5Handle(dataspace: H5Screate_simple(1, &dims, nil))
        let dcpl = H5Handle(propertyList: H5Pcreate(neon_h5p_dataset_create()))
        H5Pset_fill_time(dcpl.id, H5D_FILL_TIME_NEVER)
        H5Pset_alloc_time(dcpl.id, H5D_ALLOC_TIME_LATE)
        let ds = H5Handle(dataset: H5Dcreate2(file.id, axis, neon_h5t_native_float(), space.id, neon_h5p_default(), dcpl.id, neon_h5p_default()))
        guard ds.isValid else { throw StorageError("\(file.path): cannot create dimension scale '\(axis)'") }
        // netCDF-4's name for a dimension without coordinate values (the size right-aligned in 10).
        let padded = String(repeating: " ", count: max(0, 10 - String(size).count)) + String(size)
        guard H5DSset_scale(ds.id, "This is a netCDF dimension but not a netCDF variable.\(padded)") >= 0 else {
            throw StorageError("\(file.path): cannot make '\(axis)' a dimension scale")
        }
        return ds
    }
}

extension RelevanceOutput {
    /// The last step of an output, by one process once the parallel file is closed: names the
    /// axes (dimension scales), then sets status "complete". Also for outputs written serially.
    public static func complete(path: String) throws {
        let file = try H5WriteFile(opening: path, communicator: nil)
        try DimensionScales.attach(file)
        try file.flush()
        try file.setAttribute("status", "complete")
        try file.close()
    }
}
