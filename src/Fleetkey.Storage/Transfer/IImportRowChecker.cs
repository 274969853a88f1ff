namespace Fleetkey.Storage.Transfer;

/// <summary>
/// The product's rules for the rows of an import, beyond what the database enforces: enumerations,
/// names, PEMs, keys, versions, JSON in text columns (the application layer implements them, as it
/// knows them). One instance serves one import and may remember what it saw, to check rows against
/// each other once every row was seen.
/// </summary>
public interface IImportRowChecker
{
    /// <summary>
    /// Adds one sentence per problem with <paramref name="row"/>, each starting with the column's name;
    /// a sentence never quotes a secret (keys, secrets) and quotes other values only shortened.
    /// A column the checker has no rule for is a problem: an import never takes a value unchecked.
    /// </summary>
    void Check(ImportRow row, ICollection<string> problems);

    /// <summary>Adds the problems that show only once every row was seen (rows that must agree with each other).</summary>
    void Complete(ICollection<string> problems);
}
