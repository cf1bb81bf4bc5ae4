/// Algorithm 1 (Sec. VII-A): features of z are added from most to least relevant; after each
/// addition x ~ p_KDE(x | z_I) (Appendix G; or the missing features set to zero for activations)
/// and the curve records g_c(x) = 1{x is assigned to c}. AUC = area under the curve * 100 / d,
/// the area being the sum of the d recorded values (one unit per added feature): AUC is in
/// [100/d, 100] (the last point, x = z, is always 1). The features are the model's feature
/// groups (`ClusterDecision.featureGroups`): single values, or whole channels of activations
/// (d = C; relevance has one score per group).
public enum InsertionCurve {
    /// Feature indices by decreasing relevance (ties, and NaN last, by increasing index).
    public static func order(_ relevance: [Double]) -> [Int] {
        relevance.indices.sorted { a, b in
            let ra = relevance[a].isNaN ? -Double.infinity : relevance[a]
            let rb = relevance[b].isNaN ? -Double.infinity : relevance[b]
            return ra != rb ? ra > rb : a < b
        }
    }

    /// The d values g_c(x_t), t = 1..d, for sample z (assigned to c) and its relevance.
    public static func curve(sample z: [Double], relevance: [Double], cluster c: Int, model: ClusterDecision,
                             density: KernelDensity?, rng: inout SplitMix64) -> [UInt8] {
        let d = z.count, groups = model.featureGroups
        precondition(relevance.count == groups.count && d == groups.count * groups.size)
        var known = [Bool](repeating: false, count: d)
        var out = [UInt8]()
        out.reserveCapacity(groups.count)
        let ord = order(relevance)
        if model.missingFeatures == .zero || density == nil {
            var x = [Double](repeating: 0, count: d)
            for g in ord {
                for i in groups.range(g) { x[i] = z[i] }
                out.append(model.assign(x) == c ? 1 : 0)
            }
            return out
        }
        precondition(groups.isPerValue, "KDE imputation adds single features")
        let kde = density!
        var dist = [Double](repeating: 0, count: kde.rows), cum = dist
        var x = [Double](repeating: 0, count: d)
        for (t, i) in ord.enumerated() {
            known[i] = true
            kde.addFeature(i, value: z[i], to: &dist)
            if t == d - 1 {
                x = z
            } else {
                kde.cumulativeWeights(dist, into: &cum)
                let n = kde.drawRow(cum, rng: &rng)
                for f in 0..<d { x[f] = known[f] ? z[f] : kde.value(row: n, feature: f) + kde.sigma * rng.normal() }
            }
            out.append(model.assign(x) == c ? 1 : 0)
        }
        return out
    }

    public static func auc(_ curve: [UInt8]) -> Double {
        100 * Double(curve.reduce(0) { $0 + Int($1) }) / Double(curve.count)
    }
}
