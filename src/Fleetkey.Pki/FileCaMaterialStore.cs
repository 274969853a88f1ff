namespace Fleetkey.Pki;

/// <summary>CA material as files in a directory: root.pem, root.key, issuing.pem, issuing.key (keys mode 0600).</summary>
/// <remarks>
/// The directory is created mode 0700. Whether the keys are encrypted is read from their PEM label
/// ("ENCRYPTED PRIVATE KEY"), so there is no marker file to fall out of step with the keys.
/// </remarks>
public sealed class FileCaMaterialStore(string directory) : ICaMaterialStore
{
    internal const string RootCertificateFile = "root.pem";
    internal const string RootKeyFile = "root.key";
    internal const string IssuingCertificateFile = "issuing.pem";
    internal const string IssuingKeyFile = "issuing.key";

    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode KeyMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode CertificateMode = KeyMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static readonly string[] FileNames = [RootCertificateFile, RootKeyFile, IssuingCertificateFile, IssuingKeyFile];

    public string Directory { get; } = directory;

    public async Task<CaMaterial?> LoadAsync(CancellationToken cancellationToken)
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return null;
        }

        var missing = FileNames.Where(name => !File.Exists(Path.Combine(Directory, name))).ToList();
        if (missing.Count == FileNames.Length)
        {
            return null;
        }

        if (missing.Count > 0)
        {
            // Never generate a new CA over part of an old one: devices already trust the old root.
            throw new InvalidOperationException(
                $"The CA material in '{Directory}' is incomplete ({string.Join(", ", missing)} missing). Restore it from a backup, or remove the directory to create a new CA.");
        }

        var rootCertificate = await File.ReadAllTextAsync(Path.Combine(Directory, RootCertificateFile), cancellationToken);
        var rootKey = await File.ReadAllTextAsync(Path.Combine(Directory, RootKeyFile), cancellationToken);
        var issuingCertificate = await File.ReadAllTextAsync(Path.Combine(Directory, IssuingCertificateFile), cancellationToken);
        var issuingKey = await File.ReadAllTextAsync(Path.Combine(Directory, IssuingKeyFile), cancellationToken);
        var encrypted = CaKeyPem.IsEncrypted(rootKey) || CaKeyPem.IsEncrypted(issuingKey);
        return new CaMaterial(rootCertificate, rootKey, issuingCertificate, issuingKey, encrypted);
    }

    public async Task SaveAsync(CaMaterial material, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(material);
        var files = new (string Name, string Content, UnixFileMode Mode)[]
        {
            (RootCertificateFile, material.RootCertificatePem, CertificateMode),
            (RootKeyFile, material.RootKeyPem, KeyMode),
            (IssuingCertificateFile, material.IssuingCertificatePem, CertificateMode),
            (IssuingKeyFile, material.IssuingKeyPem, KeyMode),
        };

        var full = Path.GetFullPath(Directory);
        if (!System.IO.Directory.Exists(full))
        {
            // First start: write everything into a staging directory and rename it into place, so a
            // crash leaves either no CA or a whole one.
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var staging = $"{full}.tmp-{Guid.NewGuid():N}";
            CreatePrivateDirectory(staging);
            try
            {
                foreach (var (name, content, mode) in files)
                {
                    await WriteFileAsync(Path.Combine(staging, name), content, mode, cancellationToken);
                }

                System.IO.Directory.Move(staging, full);
            }
            catch
            {
                System.IO.Directory.Delete(staging, recursive: true);
                throw;
            }

            return;
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(full, DirectoryMode);
        }

        // Replacing material (re-encrypting keys): each file is replaced atomically.
        foreach (var (name, content, mode) in files)
        {
            var path = Path.Combine(full, name);
            var temporary = $"{path}.tmp-{Guid.NewGuid():N}";
            try
            {
                await WriteFileAsync(temporary, content, mode, cancellationToken);
                File.Move(temporary, path, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }
        }
    }

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(path);
        }
        else
        {
            System.IO.Directory.CreateDirectory(path, DirectoryMode);
        }
    }

    private static async Task WriteFileAsync(string path, string content, UnixFileMode mode, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Set at creation, so a key is never readable by others, not even for a moment.
            options.UnixCreateMode = mode;
        }

        await using var stream = new FileStream(path, options);
        await using (var writer = new StreamWriter(stream, leaveOpen: true))
        {
            await writer.WriteAsync(content.AsMemory(), cancellationToken);
        }

        stream.Flush(flushToDisk: true);
    }
}
