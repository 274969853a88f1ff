namespace Fleetkey.Storage.Tests;

/// <summary>
/// Every way two stores' schemas differ, one line each, naming the place and both sides:
/// <c>things.name: type: sqlite TEXT vs postgres text COLLATE "default"</c>. Columns are matched by
/// name (their order is not compared), types through <see cref="PortableTypes"/>, named indexes by
/// name, UNIQUE constraints and foreign keys by their columns (their names are the databases' own).
/// </summary>
public static class SchemaDifferences
{
    private const string Absent = "(none)";

    public static List<string> Between(StoreSchema left, StoreSchema right)
    {
        var differences = new List<string>();
        foreach (var name in left.Tables.Keys.Union(right.Tables.Keys).Order(StringComparer.Ordinal))
        {
            var l = left.Tables.GetValueOrDefault(name);
            var r = right.Tables.GetValueOrDefault(name);
            if (l is null || r is null)
            {
                differences.Add($"{name}: {left.Dialect} {(l is null ? "no such table" : "table")} vs {right.Dialect} {(r is null ? "no such table" : "table")}");
                continue;
            }

            CompareColumns(left.Dialect, l, right.Dialect, r, differences);
            void Compare(string what, string leftValue, string rightValue)
            {
                if (leftValue != rightValue)
                {
                    differences.Add($"{name}: {what}: {left.Dialect} {leftValue} vs {right.Dialect} {rightValue}");
                }
            }

            Compare("primary key", Columns(l.PrimaryKey), Columns(r.PrimaryKey));
            Compare("unique", Set(l.Uniques.Select(Columns)), Set(r.Uniques.Select(Columns)));
            foreach (var index in l.Indexes.Keys.Union(r.Indexes.Keys).Order(StringComparer.Ordinal))
            {
                Compare($"index {index}", Describe(l.Indexes.GetValueOrDefault(index)), Describe(r.Indexes.GetValueOrDefault(index)));
            }

            Compare("foreign keys", Set(l.ForeignKeys), Set(r.ForeignKeys));
        }

        return differences;
    }

    private static void CompareColumns(string leftDialect, StoreSchema.Table left, string rightDialect, StoreSchema.Table right, List<string> differences)
    {
        foreach (var name in left.Columns.Select(c => c.Name).Union(right.Columns.Select(c => c.Name)))
        {
            var l = left.Find(name);
            var r = right.Find(name);
            var place = $"{left.Name}.{name}";
            if (l is null || r is null)
            {
                differences.Add($"{place}: {leftDialect} {l?.Type ?? "no such column"} vs {rightDialect} {r?.Type ?? "no such column"}");
                continue;
            }

            var leftType = PortableTypes.Of(leftDialect, l.Type);
            var rightType = PortableTypes.Of(rightDialect, r.Type);
            if (leftType is null || rightType is null || leftType != rightType)
            {
                var unmapped = new[] { (leftDialect, l.Type, leftType), (rightDialect, r.Type, rightType) }
                    .Where(t => t.Item3 is null).Select(t => $"{t.Item1} {t.Item2}").ToList();
                differences.Add($"{place}: type: {leftDialect} {l.Type} vs {rightDialect} {r.Type}"
                    + (unmapped.Count == 0 ? string.Empty : $" (not in {nameof(PortableTypes)}: {string.Join(", ", unmapped)})"));
            }

            if (l.NotNull != r.NotNull)
            {
                differences.Add($"{place}: {leftDialect} {Nullability(l)} vs {rightDialect} {Nullability(r)}");
            }

            if (l.Default != r.Default)
            {
                differences.Add($"{place}: default: {leftDialect} {l.Default ?? Absent} vs {rightDialect} {r.Default ?? Absent}");
            }

            if (l.AutoAssigned != r.AutoAssigned)
            {
                differences.Add($"{place}: {leftDialect} {AutoAssigned(l)} vs {rightDialect} {AutoAssigned(r)}");
            }
        }
    }

    private static string Nullability(StoreSchema.Column column) => column.NotNull ? "NOT NULL" : "nullable";

    private static string AutoAssigned(StoreSchema.Column column) => column.AutoAssigned ? "assigns new rows' values itself" : "does not assign values";

    private static string Columns(IReadOnlyList<string> columns) => columns.Count == 0 ? Absent : $"({string.Join(", ", columns)})";

    private static string Set(IEnumerable<string> items)
    {
        var sorted = items.Order(StringComparer.Ordinal).ToList();
        return sorted.Count == 0 ? Absent : string.Join("; ", sorted);
    }

    private static string Describe(StoreSchema.Index? index) => index is null
        ? "no such index"
        : (index.Unique ? "UNIQUE " : string.Empty) + Columns(index.Columns) + (index.Predicate is null ? string.Empty : $" WHERE {index.Predicate}");
}
