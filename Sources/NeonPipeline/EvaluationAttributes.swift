import NeonCore
import Storage

extension EvaluationRunner {
    /// Evaluation attributes that only some models have (none for k-means and kernel k-means
    /// without standardisation, so their outputs stay as they were): the head's mode and Psi's LRP
    /// rules (NEON depends on them), the unit Algorithm 1 adds when it is a channel, and whether
    /// the model's standardisation was applied.
    static func modelAttributes(_ job: JobSpec, model: NeonModel, decision: ClusterDecision,
                                standardized: Bool) -> [(String, AttributeValue)] {
        var out = model.base.attributes(job: job, evaluation: true)
        let groups = decision.featureGroups
        if !groups.isPerValue {
            out += [("feature_unit", .string("channel")), ("values_per_feature", .int(groups.size))]
        }
        if standardized { out.append(("standardized", .int(1))) }
        return out
    }
}
