/// execution.read: who reads the input blocks (docs/running.md).
public enum ReadMode: String, SettingName {
    /// Rank 0 reads each block and scatters it (the default).
    case root
    /// Every rank reads its own rows through collective MPI-IO.
    case parallel
    /// "parallel" when there are several ranks and every rank sees the input file, else "root".
    case auto
}
