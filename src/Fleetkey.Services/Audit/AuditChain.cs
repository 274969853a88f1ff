using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Fleetkey.Storage;

namespace Fleetkey.Services.Audit;

/// <summary>
/// The hash chain of the audit trail: a record's hash is SHA-256 over the previous record's hash and
/// every member of the record, each length-prefixed (so no two different records encode alike). Changing
/// any byte of a record, removing one or reordering them breaks the chain from there on.
/// </summary>
public static class AuditChain
{
    /// <summary>The hash the first record chains to.</summary>
    public static readonly string Genesis = new('0', 64);

    public static string Hash(string previousHash, AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(previousHash);
        ArgumentNullException.ThrowIfNull(record);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, previousHash);
        Append(hash, record.Sequence.ToString(CultureInfo.InvariantCulture));
        Append(hash, record.RecordedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture));
        Append(hash, record.RequestId);
        Append(hash, record.Channel);
        Append(hash, record.AccessKeyId);
        Append(hash, record.Operation);
        Append(hash, record.Resources.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var resource in record.Resources)
        {
            Append(hash, resource);
        }

        Append(hash, record.Source);
        Append(hash, record.UserAgent);
        Append(hash, record.Status.ToString(CultureInfo.InvariantCulture));
        Append(hash, record.ErrorCode);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Numbers and chains <paramref name="records"/> (their sequence and hash ignored) after the chain's last record.</summary>
    public static IReadOnlyList<AuditRecord> Extend(AuditChainState chain, IReadOnlyList<AuditRecord> records)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(records);
        var chained = new AuditRecord[records.Count];
        var sequence = chain.LastSequence;
        var previous = chain.LastHash;
        for (var i = 0; i < records.Count; i++)
        {
            var numbered = records[i] with { Sequence = ++sequence, Hash = string.Empty };
            previous = Hash(previous, numbered);
            chained[i] = numbered with { Hash = previous };
        }

        return chained;
    }

    // Null and empty differ: a null is a -1 length.
    private static void Append(IncrementalHash hash, string? value)
    {
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(length, -1);
            hash.AppendData(length);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}
