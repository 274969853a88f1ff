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
        services.AddSingleton<ThingService>();
        services.AddSingleton<ThingTypeService>();
        services.AddSingleton<ThingGroupService>();
        services.AddSingleton<TagService>();
        services.AddSingleton<AccessKeyService>();
        services.AddSingleton<Security.CertificateService>();
        services.AddSingleton<Security.PrincipalService>();
        services.AddSingleton<Security.PolicyService>();
        services.AddSingleton<Provisioning.RegistrationService>();
        services.AddSingleton<Provisioning.EnrollmentService>();
        return services;
    }

    /// <summary>Registers the device key pool, run (filled, stopped, saved) with the host; the caller owns its configuration.</summary>
    internal static IServiceCollection AddDeviceKeyPool(this IServiceCollection services, Pki.DeviceKeyPool pool)
    {
        services.AddSingleton(pool);
        services.AddHostedService<Security.DeviceKeyPoolService>();
        return services;
    }
}
