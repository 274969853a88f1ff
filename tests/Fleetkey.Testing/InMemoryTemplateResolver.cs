using System.Collections.Concurrent;
using Fleetkey.Services.Provisioning;

namespace Fleetkey.Testing;

/// <summary>
/// Provisioning templates held in memory, for tests of what refers to templates by name (enrollments)
/// without the provisioning-template API.
/// </summary>
public sealed class InMemoryTemplateResolver : IProvisioningTemplateResolver
{
    private readonly ConcurrentDictionary<string, ResolvedTemplate> _templates = new(StringComparer.Ordinal);

    /// <summary>Adds (or replaces) a template with a minimal body.</summary>
    public InMemoryTemplateResolver Add(string name, string templateType = "FLEET_PROVISIONING", bool enabled = true)
    {
        _templates[name] = new ResolvedTemplate(
            name,
            $"arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/{name}",
            """{"Parameters":{"SerialNumber":{"Type":"String"}},"Resources":{}}""",
            enabled,
            templateType);
        return this;
    }

    public bool Remove(string name) => _templates.TryRemove(name, out _);

    public Task<ResolvedTemplate?> ResolveAsync(string templateName, CancellationToken cancellationToken) =>
        Task.FromResult(_templates.TryGetValue(templateName, out var template) ? template : null);
}
