using System.Data.Common;
using System.Diagnostics.Metrics;
using Fleetkey.Api.Hosting;
using Fleetkey.Mqtt;
using Fleetkey.Pki;
using Fleetkey.Services;
using Fleetkey.Services.Access;
using Fleetkey.Services.Devices;
using Fleetkey.Services.Provisioning;
using Fleetkey.Services.Security;
using Fleetkey.Services.Telemetry;
using Fleetkey.Services.Tls;
using Fleetkey.Storage;
using Fleetkey.Storage.Sql;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;

namespace Fleetkey.Hosting;

/// <summary>The composition root: one web application serving the control plane and the device endpoint.</summary>
internal static partial class FleetkeyApp
{
    /// <summary>
    /// Checks what the settings say that needs nothing on disk (the listener URLs, the key algorithms),
    /// so that a bad flag stops <c>serve</c> before it creates anything; throws <see cref="ArgumentException"/>.
    /// </summary>
    public static PkiOptions CheckSettings(ServeSettings settings)
    {
        HttpListeners.Check(settings);
        if (settings.TlsCertificatePath is null != settings.TlsKeyPath is null)
        {
            throw new ArgumentException("--tls-cert and --tls-key go together: the certificate chain and its private key.");
        }

        // The operator's files are read now, so that a wrong path or a key of another certificate stops the start here.
        ServerCertificateProvider.CheckFiles(ServerCertificateOptions(settings));

        var pkiOptions = new PkiOptions
        {
            CaKeyAlgorithm = PkiOptions.ParseAlgorithm(settings.CaKeyAlgorithm),
            DeviceKeyAlgorithm = PkiOptions.ParseAlgorithm(settings.DeviceKeyAlgorithm),
            DeviceValidity = settings.DeviceValidityDays is { } days ? TimeSpan.FromDays(days) : null,
            Passphrase = settings.CaPassphrase,
            RevocationBaseUri = RevocationUrls.Base(new Uri(settings.DeviceHttpUrl), settings.PublicHost),
        };
        if (pkiOptions.DeviceKeyAlgorithm == KeyAlgorithm.EcP384)
        {
            throw new ArgumentException("--device-key-algorithm is rsa-2048 or ec-p256.");
        }

        return pkiOptions;
    }

    /// <param name="configure">Lets tests swap services (a fake clock) or the server (TestServer).</param>
    public static async Task<WebApplication> BuildAsync(ServeSettings settings, Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        var pkiOptions = CheckSettings(settings);
        var dataDirectory = Path.GetFullPath(settings.DataDirectory);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "fleetkey" });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            HttpListeners.Configure(kestrel, settings);
        });
        builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = 2 * 1024 * 1024);

        var opened = DataDirectory.Open(dataDirectory, settings.Database);
        var store = opened.Store;
        builder.Services.AddSingleton<IFleetStore>(store);

        // Enrollment secrets and group keys are sealed under the CA passphrase, in the clear without one (as the CA keys).
        builder.Services.AddSingleton(new PassphraseSealer(settings.CaPassphrase));
        builder.Services.AddFleetkeyServices();
        builder.Services.AddFleetkeyApi(o =>
        {
            o.AccountId = settings.AccountId;
            o.PublicHost = settings.PublicHost;
        });
        builder.Services.Configure<DeviceEndpointOptions>(o =>
        {
            o.RatePerSerial = settings.DeviceRatePerSerial;
            o.RatePerAddress = settings.DeviceRatePerAddress;
            o.AuditRetention = TimeSpan.FromDays(settings.DeviceAuditRetentionDays);
            o.TrustForwardedFor = settings.DeviceTrustForwardedFor;
            o.MqttHost = settings.PublicHost;
            o.MqttPort = settings.MqttPort;
        });
        builder.Services.Configure<CertificateRenewalOptions>(o => o.Grace = settings.RenewalGrace);
        builder.Services.Configure<Fleetkey.Services.Audit.AuditOptions>(o => o.RetentionDays = settings.AuditRetentionDays);
        builder.Services.AddSingleton(new ListenerPorts(BindingAddress.Parse(settings.DeviceHttpUrl).Port));

        // One server certificate for the HTTPS listeners and the broker, renewed or reloaded without a restart.
        builder.Services.AddServerCertificate(o =>
        {
            var configured = ServerCertificateOptions(settings);
            o.PublicHost = configured.PublicHost;
            o.CertificatePath = configured.CertificatePath;
            o.KeyPath = configured.KeyPath;
        });
        if (settings.MqttPort != 0)
        {
            builder.Services.AddFleetkeyMqtt(o =>
            {
                o.Port = settings.MqttPort;
                o.BindAddress = settings.MqttBind;
                o.PublicHost = settings.PublicHost;
                o.AccountId = settings.AccountId;
                o.JitpKeepConnection = settings.JitpKeepConnection;
                settings.Mqtt.ApplyTo(o);
            });
        }

        // One meter for what Fleetkey counts (the key pool, requests in flight), owned by the container.
        var meter = new Meter(ServerActivity.MeterName, typeof(FleetkeyApp).Assembly.GetName().Version?.ToString());
        builder.Services.AddSingleton(meter);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServerActivity.MeterName, SqlFleetStore.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
            .AddPrometheusExporter());
        configure?.Invoke(builder);

        // The CA is made (or loaded, unlocked with the passphrase) before the server answers anything.
        // The clock is the registered instance (tests register a fake one), else the system clock.
        var time = builder.Services.LastOrDefault(d => d.ServiceType == typeof(TimeProvider))?.ImplementationInstance as TimeProvider ?? TimeProvider.System;
        IReadOnlyList<int> applied;
        try
        {
            applied = await opened.MigrateAsync(time, cancellationToken);
        }
        catch (DbException exception)
        {
            // A damaged or foreign database file: say which, in one line, rather than a stack trace.
            throw new InvalidOperationException($"The database {opened.Description} cannot be used: {exception.Message}", exception);
        }

        var caStore = DataDirectory.CaStore(dataDirectory, opened, time);
        var activity = new ServerActivity(time, meter);
        builder.Services.AddSingleton(activity);
        var keyPool = new DeviceKeyPool(
            pkiOptions.DeviceKeyAlgorithm,
            settings.KeyPoolSize ?? ServeSettings.DefaultKeyPoolSize(settings.DeviceKeyAlgorithm),
            new StoreDeviceKeyStore(store, time),
            passphrase: settings.CaPassphrase,
            meter: meter,
            time: time);
        builder.Services.AddDeviceKeyPool(keyPool);
        CertificateAuthority authority;
        try
        {
            try
            {
                authority = await CertificateAuthority.LoadOrCreateAsync(caStore, pkiOptions, time, keyPool, cancellationToken);
            }
            catch (CaMaterialRaceException)
            {
                // Another node made the CA while this one did: use the stored one.
                authority = await CertificateAuthority.LoadOrCreateAsync(caStore, pkiOptions, time, keyPool, cancellationToken);
            }
        }
        catch (Exception exception) when (exception is PkiException or InvalidOperationException or IOException or UnauthorizedAccessException or DbException)
        {
            // Damaged or locked CA material stops the server before it answers anything, with one line
            // that says where the material is and what is wrong with it (never the material itself).
            throw new InvalidOperationException($"The CA material in {DataDirectory.CaStoreDescription(dataDirectory, opened)} cannot be used: {exception.Message}", exception);
        }

        // Registered through a factory so the container disposes it at shutdown.
        builder.Services.AddSingleton(_ => authority);

        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Fleetkey.DataDirectory");
        DataDirectory.LogStart(logger, dataDirectory, opened, applied);
        await DataDirectory.EnsureRootKeyAsync(
            dataDirectory,
            app.Services.GetRequiredService<AccessKeyService>(),
            app.Services.GetRequiredService<TimeProvider>(),
            logger,
            cancellationToken);
        await app.Services.GetRequiredService<CertificateService>().EnsureManagedCaAsync(cancellationToken);
        DataDirectory.WriteCaBundle(dataDirectory, authority);

        // As the CA keys are encrypted at start once a passphrase is set, so are enrollment secrets stored before it.
        var sealedSecrets = await EnrollmentSealing.SealClearSecretsAsync(store, app.Services.GetRequiredService<PassphraseSealer>(), cancellationToken);
        if (sealedSecrets > 0)
        {
            LogEnrollmentSecretsSealed(logger, sealedSecrets);
        }

        var sealedKeys = await app.Services.GetRequiredService<AccessKeyService>().SealClearSecretsAsync(cancellationToken);
        if (sealedKeys > 0)
        {
            LogAccessKeysSealed(logger, sealedKeys);
        }

        app.UseMiddleware<ListenerSplitMiddleware>();
        app.UseFleetkeyApi();

        // Unauthenticated like /health, on the control-plane listener only (the device listener answers
        // 404): counts and rates, no names, ids or secrets; Prometheus scrapers do not sign requests.
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }

    private static ServerCertificateOptions ServerCertificateOptions(ServeSettings settings) => new()
    {
        PublicHost = settings.PublicHost,
        CertificatePath = settings.TlsCertificatePath is { } certificate ? Path.GetFullPath(certificate) : null,
        KeyPath = settings.TlsKeyPath is { } key ? Path.GetFullPath(key) : null,
    };

    [LoggerMessage(EventId = 4, EventName = "EnrollmentSecretsSealed", Level = LogLevel.Information, Message = "Sealed {Count} enrollment keys and secrets stored in the clear under the CA passphrase")]
    private static partial void LogEnrollmentSecretsSealed(ILogger logger, int count);

    [LoggerMessage(EventId = 6, EventName = "AccessKeysSealed", Level = LogLevel.Information, Message = "Sealed the secrets of {Count} access keys stored in the clear under the CA passphrase")]
    private static partial void LogAccessKeysSealed(ILogger logger, int count);
}

/// <summary>The port of the device listener, so a request can tell which listener it came in on.</summary>
internal sealed record ListenerPorts(int DevicePort);

/// <summary>
/// Keeps the two listeners apart: the device listener serves only health and the device routes
/// (<c>/device/…</c>, EST's <c>/.well-known/est/…</c>, the CRLs, OCSP and the CA certificate), never the
/// control plane, whatever the path; the control-plane listener does not serve the device routes.
/// </summary>
internal sealed class ListenerSplitMiddleware(RequestDelegate next, ListenerPorts ports)
{
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var devicePath = path.StartsWithSegments("/device", StringComparison.Ordinal)
            || path.StartsWithSegments("/.well-known/est", StringComparison.Ordinal)
            || RevocationUrls.Paths.Any(p => path.StartsWithSegments(p, StringComparison.Ordinal));
        var onDeviceListener = context.Connection.LocalPort == ports.DevicePort;
        if (onDeviceListener ? !devicePath && !path.StartsWithSegments("/health", StringComparison.Ordinal) : devicePath)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return next(context);
    }
}
