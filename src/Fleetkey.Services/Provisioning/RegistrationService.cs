using Fleetkey.Core.Errors;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Pki;
using Fleetkey.Services.Registry;
using Fleetkey.Services.Security;
using Fleetkey.Storage;
using Fleetkey.Templates;

namespace Fleetkey.Services.Provisioning;

/// <summary>
/// RegisterThing: evaluates a provisioning template (pure; every error reported with its path),
/// does the cryptography (CSR signing, PEM parsing, policy validation) up front, then applies the
/// plan in one transaction: certificate, policies, thing, groups and attachments are all committed
/// or none are. The same rules as the individual operations apply, through the same services.
/// </summary>
public sealed class RegistrationService(
    IFleetStore store,
    ThingService things,
    ThingGroupService groups,
    CertificateService certificates,
    PolicyService policies,
    PrincipalService principals)
{
    /// <summary>What RegisterThing answers: the certificate's PEM (if the template has one) and the resources by logical name.</summary>
    public sealed record RegistrationResult(string? CertificatePem, IReadOnlyDictionary<string, ResourceRef> Resources, IReadOnlyDictionary<string, string> DeviceConfiguration);

    /// <summary>
    /// A template evaluated and its cryptography done, ready to be applied in a transaction.
    /// <see cref="Issued"/> is a certificate Fleetkey signed for it (a CSR in the template, or one the
    /// caller issued and the template refers to by id); <see cref="Parsed"/> a PEM the template carries.
    /// </summary>
    internal sealed record PreparedRegistration(ProvisioningPlan Plan, PlannedCertificate? CertificatePlan, IssuedCertificate? Issued, ParsedCertificate? Parsed);

    public async Task<RegistrationResult> RegisterThingAsync(string templateBody, IReadOnlyDictionary<string, string>? parameters, CancellationToken cancellationToken)
    {
        var plan = Evaluate(templateBody, parameters);
        try
        {
            var prepared = Prepare(plan, issued: null);
            return await store.WriteAsync((session, ct) => ApplyAsync(session, prepared, ct), cancellationToken);
        }
        catch (ServiceException exception) when (!RegisterThingErrors.Contains(exception.Code))
        {
            throw AsRegistrationFailure(exception);
        }
    }

    /// <summary>Evaluates a template (pure); InvalidRequest listing every error with its path.</summary>
    internal static ProvisioningPlan Evaluate(string templateBody, IReadOnlyDictionary<string, string>? parameters)
    {
        var evaluated = TemplateEngine.Evaluate(templateBody, parameters);
        if (!evaluated.Succeeded)
        {
            throw new ServiceException(ErrorCode.InvalidRequest, $"The template is not valid: {ProvisioningTemplateService.Describe(evaluated.Errors)}");
        }

        return evaluated.Plan!;
    }

    /// <summary>
    /// Does the cryptography of a plan before any transaction: signs the template's CSR, parses its
    /// PEM, validates its policy documents. <paramref name="issued"/> is a certificate the caller
    /// already issued, which the template's certificate resource names by id (the device endpoint).
    /// </summary>
    internal PreparedRegistration Prepare(ProvisioningPlan plan, IssuedCertificate? issued)
    {
        var certificatePlan = plan.Certificates.Count > 0 ? plan.Certificates[0] : null;
        ParsedCertificate? parsed = null;
        if (issued is not null)
        {
            if (certificatePlan?.CertificateId is not { } id || !string.Equals(id, issued.CertificateId, StringComparison.OrdinalIgnoreCase))
            {
                throw new ServiceException(ErrorCode.ResourceRegistrationFailure, "The template's AWS::IoT::Certificate resource must name the issued certificate by id (CertificateId: {\"Ref\": \"AWS::IoT::Certificate::Id\"}).");
            }
        }
        else if (certificatePlan?.CertificateSigningRequest is { } csr)
        {
            // Only RegisterThing (SigV4) gets here: the device endpoint and fleet provisioning name the
            // certificate they issued by id. An operator's CSR keeps its subject, as CreateCertificateFromCsr.
            issued = certificates.IssueFromCsr(csr, CsrRequester.Operator);
        }
        else if (certificatePlan?.CertificatePem is { } pem)
        {
            parsed = CertificateService.Parse(pem);
        }

        foreach (var policy in plan.Policies.Where(p => p.PolicyDocument is not null))
        {
            PolicyService.EnsureDocument(policy.PolicyDocument!);
        }

        return new PreparedRegistration(plan, certificatePlan, issued, parsed);
    }

    /// <summary>RegisterThing answers only the errors its model declares: anything else fails registration.</summary>
    internal static ServiceException AsRegistrationFailure(ServiceException exception) =>
        RegisterThingErrors.Contains(exception.Code) ? exception : new ServiceException(ErrorCode.ResourceRegistrationFailure, exception.Message);

    private static readonly HashSet<ErrorCode> RegisterThingErrors =
    [
        ErrorCode.InvalidRequest, ErrorCode.ResourceRegistrationFailure, ErrorCode.ConflictingResourceUpdate,
        ErrorCode.InternalFailure, ErrorCode.ServiceUnavailable, ErrorCode.Throttling, ErrorCode.Unauthorized,
    ];

    /// <summary>
    /// Applies a prepared plan inside the caller's transaction: certificate, policies (attached to the
    /// certificate), things (the certificate attached to each) and their groups.
    /// </summary>
    internal async Task<RegistrationResult> ApplyAsync(IStoreSession session, PreparedRegistration prepared, CancellationToken cancellationToken)
    {
        var (plan, certificatePlan, issued, parsed) = prepared;
        var resources = new Dictionary<string, ResourceRef>(StringComparer.Ordinal);
        Certificate? certificate = null;
        if (certificatePlan is not null)
        {
            certificate = await ApplyCertificateAsync(session, certificatePlan, issued, parsed, cancellationToken);
            resources[certificatePlan.LogicalName] = new ResourceRef(ResourceKind.Certificate, certificate.CertificateId);
        }

        foreach (var policyPlan in plan.Policies)
        {
            await ApplyPolicyAsync(session, policyPlan, cancellationToken);
            if (certificate is not null)
            {
                await policies.AttachExistingAsync(session, policyPlan.PolicyName, new PolicyTarget(PolicyTarget.CertificateKind, certificate.CertificateId), cancellationToken);
            }

            resources[policyPlan.LogicalName] = new ResourceRef(ResourceKind.Policy, policyPlan.PolicyName);
        }

        foreach (var thingPlan in plan.Things)
        {
            await ApplyThingAsync(session, thingPlan, cancellationToken);
            if (certificate is not null)
            {
                await principals.AttachExistingAsync(session, thingPlan.ThingName, certificate.CertificateId, ThingPrincipalType.NonExclusive, cancellationToken);
            }

            resources[thingPlan.LogicalName] = new ResourceRef(ResourceKind.Thing, thingPlan.ThingName);
        }

        return new RegistrationResult(certificate?.Pem, resources, plan.DeviceConfiguration);
    }

    private async Task<Certificate> ApplyCertificateAsync(IStoreSession session, PlannedCertificate plan, IssuedCertificate? issued, ParsedCertificate? parsed, CancellationToken cancellationToken)
    {
        if (issued is not null)
        {
            return await certificates.InsertIssuedAsync(session, issued, plan.Status, cancellationToken);
        }

        var id = plan.CertificateId ?? parsed!.CertificateId;
        var existing = await session.Certificates.GetAsync(id, cancellationToken);
        if (existing is null)
        {
            if (parsed is null)
            {
                throw new ServiceException(ErrorCode.ResourceRegistrationFailure, $"Certificate {id} does not exist.");
            }

            return await certificates.RegisterAsync(session, parsed, plan.CaCertificatePem, plan.Status, cancellationToken);
        }

        switch (plan.StatusOverride)
        {
            case OverrideAction.DoNothing:
                return existing;
            case OverrideAction.Fail when existing.Status != plan.Status:
                throw new ServiceException(ErrorCode.ResourceRegistrationFailure, $"Certificate {id} has status {existing.Status}, not {plan.Status}, and the template's OverrideSettings say FAIL.");
            default:
                await certificates.SetStatusAsync(session, existing, plan.Status, cancellationToken);
                return (await session.Certificates.GetAsync(id, cancellationToken))!;
        }
    }

    private async Task ApplyPolicyAsync(IStoreSession session, PlannedPolicy plan, CancellationToken cancellationToken)
    {
        var existing = await session.Policies.GetAsync(plan.PolicyName, cancellationToken);
        if (existing is not null)
        {
            return;
        }

        if (plan.PolicyDocument is null)
        {
            throw new ServiceException(ErrorCode.ResourceRegistrationFailure, $"Policy {plan.PolicyName} does not exist.");
        }

        await policies.CreateAsync(session, plan.PolicyName, plan.PolicyDocument, cancellationToken);
    }

    private async Task ApplyThingAsync(IStoreSession session, PlannedThing plan, CancellationToken cancellationToken)
    {
        // A new thing is inserted without looking for it first (see IThingRepository.TryInsertAsync).
        // What a new thing could not be (its attributes, an unusable type) is an error only when the
        // thing does not exist.
        var attributes = Attributes.Normalize(plan.Attributes ?? Attributes.Empty);
        var refusal = await NewThingRefusalAsync(session, plan, attributes, cancellationToken);
        if (refusal is null && await things.TryInsertNewAsync(session, plan.ThingName, plan.ThingTypeName, attributes, cancellationToken) is not null)
        {
            await groups.AddNewThingAsync(session, plan.ThingGroups ?? [], plan.ThingName, cancellationToken);
            return;
        }

        // Not inserted: the name is taken (a conflict with a row this transaction cannot see is a
        // serialization failure, retried), unless a check refused the new thing.
        var existing = await session.Things.GetAsync(plan.ThingName, cancellationToken)
            ?? throw (Exception?)refusal ?? new InvalidOperationException($"Thing {plan.ThingName} was neither inserted nor found.");

        // The thing exists: each part changes only as its OverrideSettings say (DO_NOTHING when absent).
        var updated = existing;
        if (plan.Attributes is not null)
        {
            var wanted = Attributes.Normalize(plan.Attributes);
            updated = Override(plan.AttributePayloadOverride, "AttributePayload", plan.ThingName, Attributes.SameAs(existing.Attributes, wanted), updated, t => t with
            {
                Attributes = Attributes.Apply(existing.Attributes, plan.Attributes, merge: plan.AttributePayloadOverride == OverrideAction.Merge),
            });
        }

        if (plan.ThingTypeName is not null && !string.Equals(plan.ThingTypeName, existing.TypeName, StringComparison.Ordinal))
        {
            var before = updated;
            updated = Override(plan.ThingTypeNameOverride, "ThingTypeName", plan.ThingName, same: false, updated, t => t with { TypeName = plan.ThingTypeName });
            if (!ReferenceEquals(before, updated))
            {
                await ThingService.EnsureUsableTypeAsync(session, plan.ThingTypeName, "update a thing to use", cancellationToken);
            }
        }

        if (!ReferenceEquals(updated, existing))
        {
            Attributes.EnsureThingLimit(updated.Attributes, updated.TypeName);
            await session.Things.UpdateAsync(updated with { Version = existing.Version + 1 }, cancellationToken);
        }

        if (plan.ThingGroups is { } wantedGroups)
        {
            var current = (await session.ThingGroups.ListForThingAsync(plan.ThingName, null, NameRules.MaxGroupsPerThing + 1, cancellationToken)).Select(g => g.Name).ToList();
            var missing = wantedGroups.Except(current, StringComparer.Ordinal).ToList();
            var extra = current.Except(wantedGroups, StringComparer.Ordinal).ToList();
            var action = plan.ThingGroupsOverride ?? OverrideAction.DoNothing;
            if (action == OverrideAction.Fail && (missing.Count > 0 || extra.Count > 0))
            {
                throw Conflict(plan.ThingName, "ThingGroups");
            }

            if (action == OverrideAction.Replace)
            {
                foreach (var group in extra)
                {
                    await ThingGroupService.RemoveThingAsync(session, group, plan.ThingName, cancellationToken);
                }
            }

            if (action is OverrideAction.Replace or OverrideAction.Merge)
            {
                foreach (var group in missing)
                {
                    await groups.AddThingAsync(session, group, plan.ThingName, cancellationToken);
                }
            }
        }
    }

    private static async Task<ServiceException?> NewThingRefusalAsync(IStoreSession session, PlannedThing plan, IReadOnlyDictionary<string, string> attributes, CancellationToken cancellationToken)
    {
        try
        {
            NameRules.EnsureAttributes(plan.Attributes ?? Attributes.Empty, "AttributePayload");
            Attributes.EnsureThingLimit(attributes, plan.ThingTypeName);
            if (plan.ThingTypeName is not null)
            {
                await ThingService.EnsureUsableTypeAsync(session, plan.ThingTypeName, "create new thing with", cancellationToken);
            }

            return null;
        }
        catch (ServiceException exception)
        {
            return exception;
        }
    }

    private static Thing Override(OverrideAction? action, string property, string thingName, bool same, Thing thing, Func<Thing, Thing> apply) =>
        (action ?? OverrideAction.DoNothing) switch
        {
            _ when same => thing,
            OverrideAction.DoNothing => thing,
            OverrideAction.Fail => throw Conflict(thingName, property),
            _ => apply(thing),
        };

    private static ServiceException Conflict(string thingName, string property) =>
        new(ErrorCode.ResourceRegistrationFailure, $"Thing {thingName} exists with a different {property} and the template's OverrideSettings say FAIL.");
}
