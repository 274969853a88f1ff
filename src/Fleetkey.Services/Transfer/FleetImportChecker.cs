using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fleetkey.Pki;
using Fleetkey.Storage.Transfer;

namespace Fleetkey.Services.Transfer;

/// <summary>
/// Checks each row of a <c>fleetkey import</c> against <see cref="ImportRules"/>, then the rules that
/// span a row's columns (a certificate's id is the SHA-256 of its PEM's DER and its dates are the
/// PEM's; a version below the next version; a group's path ends with its parent and itself; a
/// sealed secret has its salt), and, across rows, what only shows once all were seen (the attribute
/// index holds exactly the things' attributes; Fleetkey's own CA certificate is the CA material's
/// issuing certificate). The CA material is checked whole: certificates, chain, and keys (decrypted
/// with the passphrase when encrypted) matching their certificates.
/// </summary>
/// <param name="passphrase">The CA passphrase of the import (FLEETKEY_CA_PASSPHRASE), or null.</param>
public sealed class FleetImportChecker(string? passphrase) : IImportRowChecker
{
    // A sealed secret: version (1) ‖ nonce (12) ‖ tag (16) ‖ 32 bytes (PassphraseSealer's format).
    private const int SealedSecretLength = 1 + 12 + 16 + Provisioning.EnrollmentSecrets.Length;

    // The attribute index must hold exactly the things' attributes. Rather than keep every thing's
    // attributes until the index is read, each (thing, name, value) is hashed under a key of this import
    // and the hashes summed: the things add, the index subtracts, and a sum and count of zero at the end
    // mean the two sets are equal (the keys of each are unique), with memory that does not grow.
    private readonly byte[] _attributeKey = RandomNumberGenerator.GetBytes(32);
    private readonly HashSet<string> _managedCaIds = new(StringComparer.Ordinal);
    private UInt128 _attributeBalance;
    private long _attributeCount;
    private string? _issuingCaId;

    public void Check(ImportRow row, ICollection<string> problems)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(problems);
        if (!ImportRules.Tables.TryGetValue(row.Table, out var rules))
        {
            problems.Add($"Fleetkey has no import rules for table {row.Table}");
            return;
        }

        var before = problems.Count;
        foreach (var column in row.Columns)
        {
            var rule = Array.Find(rules, r => r.Name == column);
            if (rule is null)
            {
                problems.Add($"{column}: Fleetkey has no import rule for this column");
                continue;
            }

            if (rule.Problem(row[column]) is { } problem)
            {
                problems.Add($"{column}: {problem}");
            }
        }

        // The rules across columns read values whose own rules held.
        if (problems.Count == before)
        {
            CheckRow(row, problems);
        }
    }

    public void Complete(ICollection<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (_attributeCount != 0 || _attributeBalance != UInt128.Zero)
        {
            problems.Add("thing_attributes: the attribute index does not hold exactly the attributes of the things (things.attributes)");
        }

        foreach (var id in _managedCaIds.Where(id => id != _issuingCaId))
        {
            problems.Add(_issuingCaId is null
                ? $"ca_certificates: {id} is marked as Fleetkey's own CA certificate, but the export has no CA material"
                : $"ca_certificates: {id} is marked as Fleetkey's own CA certificate, but the CA material's issuing certificate is {_issuingCaId}");
        }
    }

    private void CheckRow(ImportRow row, ICollection<string> problems)
    {
        switch (row.Table)
        {
            case "certificates":
                if (CheckCertificate(row, problems) is { } certificate && row["serial_number"] is string serial && serial != certificate.SerialNumber)
                {
                    problems.Add("serial_number: is not the serial number of the certificate in pem");
                }

                break;
            case "ca_certificates":
                if (CheckCertificate(row, problems) is { } parsed && !string.Equals(parsed.Subject, (string)row["subject"]!, StringComparison.Ordinal))
                {
                    problems.Add("subject: is not the subject of the certificate in pem");
                }

                if (row["managed"] is 1L)
                {
                    _managedCaIds.Add((string)row["certificate_id"]!);
                }

                break;
            case "policies":
            case "provisioning_templates":
                if ((long)row["next_version_id"]! <= (long)row["default_version_id"]!)
                {
                    problems.Add("next_version_id: is not above default_version_id");
                }

                break;
            case "thing_groups":
                CheckGroupPath(row, problems);
                break;
            case "things":
                using (var attributes = JsonDocument.Parse((string)row["attributes"]!))
                {
                    foreach (var attribute in attributes.RootElement.EnumerateObject())
                    {
                        Count((string)row["name"]!, attribute.Name, attribute.Value.GetString()!, +1);
                    }
                }

                break;
            case "thing_attributes":
                Count((string)row["thing_name"]!, (string)row["name"]!, (string)row["value"]!, -1);
                break;
            case "enrollment_groups":
                CheckSecret(row, "group_key", "group_key_kek_salt", problems);
                break;
            case "enrollments":
                CheckSecret(row, "device_secret", "device_secret_kek_salt", problems);
                break;
            case "ca_material":
                CheckCaMaterial(row, problems);
                break;
        }
    }

    /// <summary>The PEM parses, and the id and dates are the certificate's; returns it, or null.</summary>
    private static ParsedCertificate? CheckCertificate(ImportRow row, ICollection<string> problems)
    {
        ParsedCertificate parsed;
        try
        {
            parsed = CertificateInspector.Parse((string)row["pem"]!);
        }
        catch (PkiException exception)
        {
            problems.Add("pem: " + exception.Message);
            return null;
        }

        using (parsed.Certificate)
        {
            if (parsed.CertificateId != (string)row["certificate_id"]!)
            {
                problems.Add("certificate_id: is not the SHA-256 of the certificate in pem");
            }

            if (parsed.NotBefore.ToUnixTimeMilliseconds() != (long)row["not_before"]! || parsed.NotAfter.ToUnixTimeMilliseconds() != (long)row["not_after"]!)
            {
                problems.Add("not_before, not_after: are not the validity of the certificate in pem");
            }
        }

        return parsed;
    }

    private static void CheckGroupPath(ImportRow row, ICollection<string> problems)
    {
        var names = ((string)row["path"]!).Split('/');
        var parent = row["parent_name"] as string;
        if (names[^1] != (string)row["name"]! || (parent is null ? names.Length != 1 : names.Length < 2 || names[^2] != parent))
        {
            problems.Add("path: does not end with the parent group's name and the group's own");
        }
    }

    /// <summary>A key or secret in the clear is 32 bytes; a sealed one has its salt, its format and its length.</summary>
    private void CheckSecret(ImportRow row, string dataColumn, string saltColumn, ICollection<string> problems)
    {
        var data = Convert.FromBase64String((string)row[dataColumn]!);
        try
        {
            if (row[saltColumn] is null)
            {
                if (data.Length != Provisioning.EnrollmentSecrets.Length)
                {
                    problems.Add($"{dataColumn}: is not {Provisioning.EnrollmentSecrets.Length} bytes");
                }
            }
            else if (data.Length != SealedSecretLength || data[0] != 1)
            {
                problems.Add($"{dataColumn}: is not a secret sealed under the CA passphrase");
            }
            else if (passphrase is null)
            {
                problems.Add($"{dataColumn}: is sealed under a CA passphrase; set FLEETKEY_CA_PASSPHRASE to import it");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(data);
        }
    }

    private void CheckCaMaterial(ImportRow row, ICollection<string> problems)
    {
        var material = new CaMaterial(
            (string)row["root_certificate_pem"]!,
            (string)row["root_key_pem"]!,
            (string)row["issuing_certificate_pem"]!,
            (string)row["issuing_key_pem"]!,
            row["keys_encrypted"] is 1L);
        if (CertificateAuthority.FindMaterialProblem(material, passphrase) is { } problem)
        {
            problems.Add("the CA material cannot be used: " + problem);
            return;
        }

        using var issuing = CertificateInspector.Parse(material.IssuingCertificatePem).Certificate;
        _issuingCaId = CertificateInspector.CertificateId(issuing.RawData);
    }

    private void Count(string thing, string name, string value, int sign)
    {
        Span<byte> hash = stackalloc byte[32];
        var input = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{thing.Length}:{thing}{name.Length}:{name}{value}"));
        HMACSHA256.HashData(_attributeKey, input, hash);
        var term = new UInt128(BitConverter.ToUInt64(hash), BitConverter.ToUInt64(hash[8..]));
        _attributeBalance = sign > 0 ? _attributeBalance + term : _attributeBalance - term;
        _attributeCount += sign;
    }
}
