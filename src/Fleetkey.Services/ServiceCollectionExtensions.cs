using Fleetkey.Services.Access;
using Fleetkey.Services.Registry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Fleetkey.Services;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers the application layer. The caller registers the <see cref="Storage.IFleetStore"/>.</summary>
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
        return services;
    }
}
