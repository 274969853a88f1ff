using Fleetkey.Services.Access;
using Fleetkey.Services.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Fleetkey.Services;

public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the application layer. The caller registers the <see cref="Storage.IFleetStore"/> and the
    /// <see cref="Pki.PassphraseSealer"/> made with the CA passphrase (it seals enrollment secrets).
    /// </summary>
    public static IServiceCollection AddFleetkeyServices(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Changes.FleetChanges>();
        services.AddSingleton<ThingService>();
        services.AddSingleton<ThingTypeService>();
        services.AddSingleton<ThingGroupService>();
        services.AddSingleton<TagService>();
        services.AddSingleton<AccessKeyService>();
        services.AddSingleton<AccessKeyUsage>();
        services.AddHostedService<AccessKeyUsageFlush>();
        services.AddOptions<Audit.AuditOptions>()
            .Validate(o => o.RetentionDays is >= 1 and <= 36_500 && o.PruneInterval > TimeSpan.Zero, "The audit retention is 1 to 36,500 days.")
            .ValidateOnStart();
        services.AddSingleton<Audit.AuditWriter>();
        services.AddSingleton<Audit.AuditTrail>();
        services.AddHostedService<Audit.AuditRetention>();
        services.AddSingleton<Security.CertificateService>();
        services.AddSingleton<Security.CertificateExpiryService>();
        services.AddSingleton(provider => new Security.CertificateExpiryMonitor(
            provider.GetRequiredService<Security.CertificateExpiryService>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Security.CertificateExpiryMonitor>>(),
            provider.GetService<System.Diagnostics.Metrics.Meter>()));
        services.AddHostedService(provider => provider.GetRequiredService<Security.CertificateExpiryMonitor>());
        services.AddSingleton<Security.RegisteredCaTrust>();
        services.AddSingleton<Security.CaCertificateService>();
        services.AddRevocation();
        services.AddSingleton<Security.PrincipalService>();
        services.AddSingleton<Security.PolicyService>();
        services.AddSingleton<Security.CompiledPolicyCache>();
        services.AddSingleton<Security.DeviceAuthorizationService>();
        services.AddOptions<Security.CertificateRenewalOptions>()
            .Validate(o => o.Grace > TimeSpan.Zero && o.SweepInterval > TimeSpan.Zero, "The renewal grace period and sweep interval must be positive.")
            .ValidateOnStart();
        services.AddSingleton<Security.CertificateRenewalService>();
        services.AddSingleton<Security.IDeviceConnectionObserver, Security.RenewalCompletion>();
        services.AddHostedService<Security.RenewalGraceSweep>();
        services.AddSingleton<Provisioning.RegistrationService>();
        services.AddSingleton<Provisioning.ProvisioningTemplateService>();

        // Needs the installation's IotScope (account, default region), which the host registers.
        services.AddSingleton<Provisioning.IProvisioningTemplateResolver, Provisioning.ProvisioningTemplateResolver>();
        services.AddSingleton<Provisioning.EnrollmentService>();
        services.AddSingleton<Provisioning.JustInTimeProvisioning>();
        services.AddHttpClient(Provisioning.PreProvisioningHookClient.HttpClientName);
        services.AddSingleton<Provisioning.PreProvisioningHookClient>();
        services.AddSingleton<Provisioning.FleetProvisioningService>();
        services.AddHostedService<Provisioning.FleetProvisioningSweep>();
        services.AddDeviceEndpoint();
        return services;
    }

    /// <summary>
    /// CRLs and the OCSP responder of the issuing CA (the host registers the <see cref="Pki.CertificateAuthority"/>),
    /// with this node's delegated responder key, and the upkeep of their tables.
    /// </summary>
    private static IServiceCollection AddRevocation(this IServiceCollection services)
    {
        services.AddSingleton(provider => new Pki.OcspSigner(
            provider.GetRequiredService<Pki.CertificateAuthority>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Pki.OcspSigner>>()));
        services.AddSingleton<Pki.OcspResponder>();
        services.AddSingleton<Security.OcspService>();
        services.AddSingleton<Security.CrlService>();
        services.AddHostedService<Security.RevocationMaintenance>();
        return services;
    }

    /// <summary>
    /// The device endpoint's service, its options (validated at start) and its pruning. The host
    /// registers the enrollment resolver (it needs the installation's scope).
    /// </summary>
    private static IServiceCollection AddDeviceEndpoint(this IServiceCollection services)
    {
        services.AddOptions<Devices.DeviceEndpointOptions>()
            .ValidateDataAnnotations()
            .Validate(o => o.Validate().Count == 0, "The device endpoint options are not consistent (rate windows, audit retention, token lifetime).")
            .ValidateOnStart();
        services.AddSingleton(provider => new Devices.DeviceEndpointMetrics(provider.GetService<System.Diagnostics.Metrics.Meter>()));
        services.AddSingleton<Devices.DeviceRegistrationService>();
        services.AddSingleton<Provisioning.IDeviceEnrollmentResolver, Provisioning.EnrollmentResolver>();
        services.AddSingleton<Security.IDeviceConnectionObserver, Devices.FirstConnectionRecorder>();
        services.AddHostedService<Devices.DeviceEndpointMaintenance>();
        return services;
    }

    /// <summary>Registers the device key pool, run (filled, stopped, saved) with the host; the caller owns its configuration.</summary>
    public static IServiceCollection AddDeviceKeyPool(this IServiceCollection services, Pki.DeviceKeyPool pool)
    {
        services.AddSingleton(pool);
        services.AddHostedService<Security.DeviceKeyPoolService>();
        return services;
    }

    /// <summary>
    /// The listeners' TLS identity (<see cref="Tls.ServerCertificateProvider"/>), made from the options on first
    /// use, and its monitor, which renews or reloads it. Needs the <c>CertificateAuthority</c>.
    /// </summary>
    public static IServiceCollection AddServerCertificate(this IServiceCollection services, Action<Tls.ServerCertificateOptions> configure)
    {
        services.AddOptions<Tls.ServerCertificateOptions>()
            .Configure(configure)
            .Validate(o => o.Validity > o.RenewBefore && o.RenewBefore > TimeSpan.Zero, "The server certificate must outlive its renewal window, which must be positive.")
            .Validate(o => o.RenewalCheckInterval > TimeSpan.Zero && o.FileCheckInterval > TimeSpan.Zero, "The server certificate check intervals must be positive.")
            .ValidateOnStart();
        services.AddSingleton(provider => Tls.ServerCertificateProvider.Create(
            provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Tls.ServerCertificateOptions>>().Value,
            provider.GetRequiredService<Pki.CertificateAuthority>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Tls.ServerCertificateProvider>>()));
        services.AddHostedService<Tls.ServerCertificateMonitor>();
        return services;
    }
}
