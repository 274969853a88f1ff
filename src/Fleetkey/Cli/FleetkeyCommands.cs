using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Fleetkey.Hosting;

namespace Fleetkey.Cli;

/// <summary>The <c>fleetkey</c> command line: every flag, its environment variable and its default, in one place.</summary>
internal static partial class FleetkeyCommands
{
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("Fleetkey: self-hosted device identity and provisioning with an AWS IoT-compatible API.");
        root.Subcommands.Add(CreateServe());
        root.Subcommands.Add(KeyCommands.Create());
        root.Subcommands.Add(AuditCommands.Create());
        root.Subcommands.Add(CreateMigrate());
        root.Subcommands.Add(TransferCommands.CreateExport());
        root.Subcommands.Add(TransferCommands.CreateImport());
        root.Subcommands.Add(EnrollmentCommands.Create());
        root.Subcommands.Add(CertificateCommands.Create());
        return root;
    }

    /// <summary>
    /// The data directory, as an absolute path: a relative one is taken from the directory the command
    /// was run in, and every message names the directory that was used.
    /// </summary>
    internal static Option<string> DataOption() => new("--data")
    {
        Description = "Data directory: the SQLite database, CA material and generated credentials; a relative path is taken from the current directory (env FLEETKEY_DATA).",
        DefaultValueFactory = result => FullPath(result, Env("FLEETKEY_DATA") ?? "./fleetkey-data", "FLEETKEY_DATA"),
        CustomParser = result => FullPath(result, result.Tokens[0].Value, "--data"),
    };

    private static string FullPath(ArgumentResult result, string path, string source)
    {
        try
        {
            return Path.GetFullPath(path);
        }
        catch (ArgumentException)
        {
            result.AddError($"{source} must name a directory, not '{path}'.");
            return path;
        }
    }

    internal static Option<string?> DatabaseOption() => new("--database")
    {
        Description = "PostgreSQL instead of the embedded SQLite: a postgres://user:pass@host:port/db URL or an Npgsql connection string (env FLEETKEY_DATABASE).",
        DefaultValueFactory = _ => Env("FLEETKEY_DATABASE"),
    };

    private static Command CreateServe()
    {
        var data = DataOption();
        var database = DatabaseOption();
        var http = new Option<string>("--http")
        {
            Description = "Control-plane (AWS IoT API) listener URL, http:// or https://; several separated by ';' (env FLEETKEY_HTTP).",
            DefaultValueFactory = _ => Env("FLEETKEY_HTTP") ?? "http://127.0.0.1:5080",
        };
        var deviceHttp = new Option<string>("--device-http")
        {
            Description = "Device-facing listener URL, https:// (the default) or http:// (env FLEETKEY_DEVICE_HTTP).",
            DefaultValueFactory = _ => Env("FLEETKEY_DEVICE_HTTP") ?? "https://127.0.0.1:5081",
        };
        var mqttPort = new Option<int>("--mqtt-port")
        {
            Description = "MQTT over mutual TLS port; 0 disables MQTT (env FLEETKEY_MQTT_PORT).",
            DefaultValueFactory = _ => int.Parse(Env("FLEETKEY_MQTT_PORT") ?? "8883", CultureInfo.InvariantCulture),
        };
        var mqttBind = new Option<IPAddress>("--mqtt-bind")
        {
            Description = "Address the MQTT listener binds: 127.0.0.1 (loopback, the default, as the HTTP listeners), another address of this machine, or 0.0.0.0 / :: for every interface (env FLEETKEY_MQTT_BIND).",
            DefaultValueFactory = result => BindAddress(result, Env("FLEETKEY_MQTT_BIND") ?? "127.0.0.1", "FLEETKEY_MQTT_BIND"),
            CustomParser = result => BindAddress(result, result.Tokens[0].Value, "--mqtt-bind"),
            HelpName = "address",
        };
        var accountId = new Option<string>("--account-id")
        {
            Description = "Account id in ARNs, 12 digits (env FLEETKEY_ACCOUNT_ID).",
            DefaultValueFactory = _ => Env("FLEETKEY_ACCOUNT_ID") ?? "000000000000",
        };
        var publicHost = new Option<string>("--public-host")
        {
            Description = "Host name devices use for the MQTT endpoint, as DescribeEndpoint returns it (env FLEETKEY_PUBLIC_HOST).",
            DefaultValueFactory = _ => Env("FLEETKEY_PUBLIC_HOST") ?? "127.0.0.1",
        };

        var caKeyAlgorithm = new Option<string>("--ca-key-algorithm")
        {
            Description = "Key algorithm of the CA made on first start: ec-p256, ec-p384 or rsa-2048 (env FLEETKEY_CA_KEY_ALGORITHM).",
            DefaultValueFactory = _ => Env("FLEETKEY_CA_KEY_ALGORITHM") ?? "ec-p256",
        };
        var deviceKeyAlgorithm = new Option<string>("--device-key-algorithm")
        {
            Description = "Key algorithm of keys CreateKeysAndCertificate generates: rsa-2048 (as AWS) or ec-p256 (env FLEETKEY_DEVICE_KEY_ALGORITHM).",
            DefaultValueFactory = _ => Env("FLEETKEY_DEVICE_KEY_ALGORITHM") ?? "rsa-2048",
        };
        var deviceValidityDays = new Option<int?>("--device-validity-days")
        {
            Description = "Lifetime of device certificates in days; default until 2049-12-31T23:59:59Z, as AWS (env FLEETKEY_DEVICE_VALIDITY_DAYS).",
            DefaultValueFactory = _ => Env("FLEETKEY_DEVICE_VALIDITY_DAYS") is { } days ? int.Parse(days, CultureInfo.InvariantCulture) : null,
        };
        var keyPoolSize = new Option<int?>("--key-pool-size")
        {
            Description = "Device keys kept generated ahead of demand, in the database, filled while the server is idle; 0 turns the pool off. Default 2000 for rsa-2048, 0 for ec-p256 (env FLEETKEY_KEY_POOL_SIZE).",
            DefaultValueFactory = _ => Env("FLEETKEY_KEY_POOL_SIZE") is { } size ? int.Parse(size, CultureInfo.InvariantCulture) : null,
        };
        var deviceRatePerSerial = new Option<int>("--device-rate-per-serial")
        {
            Description = "Device endpoint: authenticated registration attempts (signature verified) per serial number per hour; 0 turns the limit off (env FLEETKEY_DEVICE_RATE_PER_SERIAL).",
            DefaultValueFactory = _ => int.Parse(Env("FLEETKEY_DEVICE_RATE_PER_SERIAL") ?? "5", CultureInfo.InvariantCulture),
        };
        var deviceRatePerAddress = new Option<int>("--device-rate-per-address")
        {
            Description = "Device endpoint: requests per source address per minute, whatever their body, credential or outcome; 0 turns the limit off (env FLEETKEY_DEVICE_RATE_PER_ADDRESS).",
            DefaultValueFactory = _ => int.Parse(Env("FLEETKEY_DEVICE_RATE_PER_ADDRESS") ?? "60", CultureInfo.InvariantCulture),
        };
        var deviceAuditRetentionDays = new Option<int>("--device-audit-retention-days")
        {
            Description = "Device endpoint: days the audit log keeps each attempt (env FLEETKEY_DEVICE_AUDIT_RETENTION_DAYS).",
            DefaultValueFactory = _ => int.Parse(Env("FLEETKEY_DEVICE_AUDIT_RETENTION_DAYS") ?? "30", CultureInfo.InvariantCulture),
        };
        var auditRetentionDays = new Option<int>("--audit-retention-days")
        {
            Description = "Days the audit trail keeps each record; older ones are pruned hourly, the chain stays verifiable (env FLEETKEY_AUDIT_RETENTION_DAYS).",
            DefaultValueFactory = _ => int.Parse(Env("FLEETKEY_AUDIT_RETENTION_DAYS") ?? "365", CultureInfo.InvariantCulture),
        };
        auditRetentionDays.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 36_500)
            {
                result.AddError("--audit-retention-days must be between 1 and 36500.");
            }
        });
        var deviceTrustForwardedFor = new Option<bool>("--device-trust-forwarded-for")
        {
            Description = "Device endpoint: take the source address from the last X-Forwarded-For entry; only behind a proxy that sets it (env FLEETKEY_DEVICE_TRUST_FORWARDED_FOR=true).",
            DefaultValueFactory = _ => string.Equals(Env("FLEETKEY_DEVICE_TRUST_FORWARDED_FOR"), "true", StringComparison.OrdinalIgnoreCase),
        };
        var tlsCert = new Option<string?>("--tls-cert")
        {
            Description = "TLS: the HTTPS and MQTT listeners' certificate, PEM, the leaf then its chain, reloaded when the file changes; default one issued by Fleetkey's CA (env FLEETKEY_TLS_CERT).",
            DefaultValueFactory = _ => Env("FLEETKEY_TLS_CERT"),
            HelpName = "file",
        };
        var tlsKey = new Option<string?>("--tls-key")
        {
            Description = "TLS: the unencrypted PEM private key of --tls-cert (env FLEETKEY_TLS_KEY).",
            DefaultValueFactory = _ => Env("FLEETKEY_TLS_KEY"),
            HelpName = "file",
        };
        var allowPlainHttp = new Option<bool>("--allow-plain-http")
        {
            Description = "Let an http:// listener bind an address other than loopback (behind a TLS-terminating proxy only: access keys' requests and private keys would cross the network in the clear) (env FLEETKEY_ALLOW_PLAIN_HTTP=true).",
            DefaultValueFactory = _ => string.Equals(Env("FLEETKEY_ALLOW_PLAIN_HTTP"), "true", StringComparison.OrdinalIgnoreCase),
        };
        var renewalGrace = new Option<string>("--renewal-grace")
        {
            Description = "EST renewal: how long a renewed certificate stays ACTIVE unless its successor connects first, e.g. 7d, 36h (env FLEETKEY_RENEWAL_GRACE).",
            DefaultValueFactory = _ => Env("FLEETKEY_RENEWAL_GRACE") ?? "7d",
            HelpName = "duration",
        };
        renewalGrace.Validators.Add(result =>
        {
            if (Fleetkey.Services.Security.ExpiryWindow.TryParse(result.GetValueOrDefault<string>()) is null)
            {
                result.AddError($"--renewal-grace (or FLEETKEY_RENEWAL_GRACE) must be {Fleetkey.Services.Security.ExpiryWindow.Syntax}, not '{result.GetValueOrDefault<string>()}'.");
            }
        });
        var jitpKeepConnection = new Option<bool>("--jitp-keep-connection")
        {
            Description = "MQTT: keep a device's first connection open once just-in-time provisioning succeeded (AWS IoT closes it) (env FLEETKEY_JITP_KEEP_CONNECTION=true).",
            DefaultValueFactory = _ => string.Equals(Env("FLEETKEY_JITP_KEEP_CONNECTION"), "true", StringComparison.OrdinalIgnoreCase),
        };
        var mqttDefaults = new MqttLimits();
        var mqttMaxPayload = Bounded("--mqtt-max-payload-bytes", "FLEETKEY_MQTT_MAX_PAYLOAD_BYTES", mqttDefaults.MaxPayloadBytes, 1024, 64 * 1024 * 1024,
            "MQTT: largest PUBLISH payload; a packet whose header announces more is refused before its body is read");
        var mqttMaxConnect = Bounded("--mqtt-max-connect-bytes", "FLEETKEY_MQTT_MAX_CONNECT_BYTES", mqttDefaults.MaxConnectBytes, 512, 1024 * 1024,
            "MQTT: largest CONNECT packet (client id, credentials, will message)");
        var mqttConnectTimeout = Bounded("--mqtt-connect-timeout", "FLEETKEY_MQTT_CONNECT_TIMEOUT", mqttDefaults.ConnectTimeoutSeconds, 1, 300,
            "MQTT: seconds from TCP accept to a complete CONNECT, TLS handshake included");
        var mqttMaxConnections = Bounded("--mqtt-max-connections", "FLEETKEY_MQTT_MAX_CONNECTIONS", mqttDefaults.MaxConnections, 1, 10_000_000,
            "MQTT: connections this node holds at most");
        var mqttMaxPerAddress = Bounded("--mqtt-max-connections-per-address", "FLEETKEY_MQTT_MAX_CONNECTIONS_PER_ADDRESS", mqttDefaults.MaxConnectionsPerAddress, 1, 10_000_000,
            "MQTT: connections from one source address (an IPv6 /64) at most");
        var mqttMaxPending = Bounded("--mqtt-max-pending-per-address", "FLEETKEY_MQTT_MAX_PENDING_PER_ADDRESS", mqttDefaults.MaxPendingPerAddress, 1, 1_000_000,
            "MQTT: connections from one source address in the TLS handshake or before CONNECT at most");
        var mqttMaxRetained = Bounded("--mqtt-max-retained-messages", "FLEETKEY_MQTT_MAX_RETAINED_MESSAGES", mqttDefaults.MaxRetainedMessages, 0, 10_000_000,
            "MQTT: retained messages (topics) this node keeps at most; 0 turns retained messages off");
        var mqttMaxRetainedBytes = Bounded("--mqtt-max-retained-bytes", "FLEETKEY_MQTT_MAX_RETAINED_BYTES", mqttDefaults.MaxRetainedBytes, 0, int.MaxValue,
            "MQTT: bytes of retained payload this node keeps at most");
        foreach (var rate in new[] { deviceRatePerSerial, deviceRatePerAddress })
        {
            rate.Validators.Add(result =>
            {
                if (result.GetValueOrDefault<int>() is < 0 or > 1_000_000)
                {
                    result.AddError($"{rate.Name} must be between 0 and 1000000.");
                }
            });
        }

        deviceAuditRetentionDays.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 3650)
            {
                result.AddError("--device-audit-retention-days must be between 1 and 3650.");
            }
        });
        keyPoolSize.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0 or > 1_000_000)
            {
                result.AddError("--key-pool-size must be between 0 and 1000000.");
            }
        });
        mqttPort.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                result.AddError("--mqtt-port must be between 0 and 65535.");
            }
        });
        var command = new Command("serve", "Run the Fleetkey server.") { data, database, http, deviceHttp, tlsCert, tlsKey, allowPlainHttp, renewalGrace, mqttPort, mqttBind, accountId, publicHost, caKeyAlgorithm, deviceKeyAlgorithm, deviceValidityDays, keyPoolSize,
            deviceRatePerSerial, deviceRatePerAddress, deviceAuditRetentionDays, deviceTrustForwardedFor, jitpKeepConnection, auditRetentionDays,
            mqttMaxPayload, mqttMaxConnect, mqttConnectTimeout, mqttMaxConnections, mqttMaxPerAddress, mqttMaxPending, mqttMaxRetained, mqttMaxRetainedBytes };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new ServeSettings
            {
                DataDirectory = parse.GetValue(data)!,
                Database = parse.GetValue(database),
                HttpUrl = parse.GetValue(http)!,
                DeviceHttpUrl = parse.GetValue(deviceHttp)!,
                TlsCertificatePath = parse.GetValue(tlsCert),
                TlsKeyPath = parse.GetValue(tlsKey),
                AllowPlainHttp = parse.GetValue(allowPlainHttp),
                RenewalGrace = Fleetkey.Services.Security.ExpiryWindow.TryParse(parse.GetValue(renewalGrace))!.Duration,
                MqttPort = parse.GetValue(mqttPort),
                MqttBind = parse.GetValue(mqttBind)!,
                AccountId = parse.GetValue(accountId)!,
                PublicHost = parse.GetValue(publicHost)!,
                CaKeyAlgorithm = parse.GetValue(caKeyAlgorithm)!,
                DeviceKeyAlgorithm = parse.GetValue(deviceKeyAlgorithm)!,
                DeviceValidityDays = parse.GetValue(deviceValidityDays),
                KeyPoolSize = parse.GetValue(keyPoolSize),
                DeviceRatePerSerial = parse.GetValue(deviceRatePerSerial),
                DeviceRatePerAddress = parse.GetValue(deviceRatePerAddress),
                DeviceAuditRetentionDays = parse.GetValue(deviceAuditRetentionDays),
                AuditRetentionDays = parse.GetValue(auditRetentionDays),
                DeviceTrustForwardedFor = parse.GetValue(deviceTrustForwardedFor),
                JitpKeepConnection = parse.GetValue(jitpKeepConnection),
                Mqtt = new MqttLimits
                {
                    MaxPayloadBytes = parse.GetValue(mqttMaxPayload),
                    MaxConnectBytes = parse.GetValue(mqttMaxConnect),
                    ConnectTimeoutSeconds = parse.GetValue(mqttConnectTimeout),
                    MaxConnections = parse.GetValue(mqttMaxConnections),
                    MaxConnectionsPerAddress = parse.GetValue(mqttMaxPerAddress),
                    MaxPendingPerAddress = parse.GetValue(mqttMaxPending),
                    MaxRetainedMessages = parse.GetValue(mqttMaxRetained),
                    MaxRetainedBytes = parse.GetValue(mqttMaxRetainedBytes),
                },
                CaPassphrase = Env("FLEETKEY_CA_PASSPHRASE"),
            };
            WebApplication app;
            DataDirectoryLock? dataLock = null;
            try
            {
                // In this order, so that a bad flag, a busy port or a directory another server holds
                // stops the start before anything is created.
                FleetkeyApp.CheckSettings(settings);
                ListenerProbe.EnsureAvailable(settings);
                if (settings.Database is null)
                {
                    dataLock = DataDirectoryLock.Acquire(settings.DataDirectory, "serve");
                }

                app = await FleetkeyApp.BuildAsync(settings, configure: null, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                dataLock?.Dispose();

                // Nothing is served yet: whatever stops the start (bad flags, damaged CA material or
                // database, an unwritable data directory, a row the start reads) is one line and exit 2,
                // never a stack trace. Types outside the expected ones are named, for a bug report.
                var expected = exception is ArgumentException or UriFormatException or Microsoft.Extensions.Options.OptionsValidationException
                    or IOException or UnauthorizedAccessException or InvalidOperationException or Fleetkey.Pki.PkiException or System.Data.Common.DbException;
                await Console.Error.WriteLineAsync($"fleetkey: {(expected ? string.Empty : "cannot start: ")}{OneLine(exception.Message)}{(expected ? string.Empty : $" ({exception.GetType().Name})")}");
                return 2;
            }

            using (dataLock)
            {
                try
                {
                    await using (app)
                    {
                        await app.RunAsync();
                    }

                    return 0;
                }
                catch (Exception exception) when (exception is IOException or InvalidOperationException)
                {
                    // A listener could not bind after all (its port taken since the probe).
                    await Console.Error.WriteLineAsync($"fleetkey: {OneLine(exception.Message)}");
                    return 2;
                }
            }
        });
        return command;
    }

    private static Command CreateMigrate()
    {
        var data = DataOption();
        var database = DatabaseOption();
        var migrate = new Command("migrate", "Apply pending schema migrations to the store and exit (safe while other nodes start).") { data, database };
        migrate.SetAction(async (parse, cancellationToken) =>
        {
            await using var opened = DataDirectory.Open(parse.GetValue(data)!, parse.GetValue(database));
            var applied = await opened.MigrateAsync(TimeProvider.System, cancellationToken);
            Console.WriteLine(applied.Count == 0
                ? $"{opened.Description}: schema is up to date"
                : $"{opened.Description}: applied migrations {string.Join(", ", applied)}");
            return 0;
        });
        return migrate;
    }

    /// <summary>
    /// Opens the fleet a command works on (<see cref="DataDirectory.OpenFleetAsync"/>), or writes why
    /// there is none to <paramref name="error"/> and returns null (exit code 2).
    /// </summary>
    internal static async Task<OpenedStore?> OpenFleetAsync(string dataDirectory, string? database, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            return await DataDirectory.OpenFleetAsync(dataDirectory, database, cancellationToken);
        }
        catch (NoFleetException exception)
        {
            await error.WriteLineAsync($"fleetkey: {exception.Message}");
            return null;
        }
    }

    /// <summary>An address to bind: IPv4 in dotted form or IPv6 (brackets allowed); a host name is refused, never resolved.</summary>
    private static IPAddress BindAddress(ArgumentResult result, string text, string source)
    {
        var bare = text.Length > 2 && text[0] == '[' && text[^1] == ']' ? text[1..^1] : text;

        // IPAddress.TryParse alone would take "1" for 0.0.0.1 and "127.1" for 127.0.0.1.
        if ((bare.Contains(':', StringComparison.Ordinal) || DottedQuad().IsMatch(bare)) && IPAddress.TryParse(bare, out var address))
        {
            return address;
        }

        result.AddError($"{source} must be an IPv4 or IPv6 address of this machine (0.0.0.0 or :: for every interface), not '{text}'.");
        return IPAddress.Loopback;
    }

    [GeneratedRegex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}$")]
    private static partial Regex DottedQuad();

    /// <summary>A whole-number flag with its environment variable, default and allowed range (a bad value is an error, not the default).</summary>
    private static Option<int> Bounded(string name, string env, int fallback, int min, int max, string description)
    {
        var option = new Option<int>(name)
        {
            Description = string.Create(CultureInfo.InvariantCulture, $"{description}; default {fallback} (env {env})."),
            DefaultValueFactory = result =>
            {
                if (Env(env) is not { } text)
                {
                    return fallback;
                }

                if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
                {
                    return value;
                }

                result.AddError($"{env} must be a whole number, not '{text}'.");
                return fallback;
            },
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is var value && (value < min || value > max))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max}."));
            }
        });
        return option;
    }
    /// <summary>An exception message on one line (some, from the database drivers, span several).</summary>
    internal static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
