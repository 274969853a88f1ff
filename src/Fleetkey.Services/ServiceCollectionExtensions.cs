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
        services.AddSingleton<Security.PrincipalService>();
        services.AddSingleton<Security.PolicyService>();
        services.AddSingleton<Security.CompiledPolicyCache>();
        services.AddSingleton<Security.DeviceAuthorizationService>();
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
}
