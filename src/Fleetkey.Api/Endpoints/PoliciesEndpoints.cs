using System.Globalization;
using Fleetkey.Api.Contracts;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Naming;
using Fleetkey.Core.Registry;
using Fleetkey.Policies;
using Fleetkey.Services.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Fleetkey.Api.Endpoints;

internal static class PoliciesEndpoints
{
    public static IEndpointRouteBuilder MapPolicies(this IEndpointRouteBuilder routes)
    {
        routes.MapAws("CreatePolicy", CreatePolicy);
        routes.MapAws("GetPolicy", GetPolicy);
        routes.MapAws("DeletePolicy", DeletePolicy);
        routes.MapAws("ListPolicies", ListPolicies);
        routes.MapAws("CreatePolicyVersion", CreatePolicyVersion);
        routes.MapAws("GetPolicyVersion", GetPolicyVersion);
        routes.MapAws("ListPolicyVersions", ListPolicyVersions);
        routes.MapAws("SetDefaultPolicyVersion", SetDefaultPolicyVersion);
        routes.MapAws("DeletePolicyVersion", DeletePolicyVersion);
        routes.MapAws("AttachPolicy", AttachPolicy);
        routes.MapAws("DetachPolicy", DetachPolicy);
        routes.MapAws("ListAttachedPolicies", ListAttachedPolicies);

        // The deprecated principal forms, which the AWS CLI and older scripts still call.
        routes.MapAws("AttachPrincipalPolicy", AttachPrincipalPolicy);
        routes.MapAws("DetachPrincipalPolicy", DetachPrincipalPolicy);
        routes.MapAws("ListPrincipalPolicies", ListPrincipalPolicies);
        routes.MapAws("ListTargetsForPolicy", ListTargetsForPolicy);
        routes.MapAws("GetEffectivePolicies", GetEffectivePolicies);
        routes.MapAws("TestAuthorization", TestAuthorization);
        return routes;
    }

    private static string PolicyArn(IotScope scope, string name) => Arn.For(scope, ResourceKind.Policy, name);

    private static string Id(long versionId) => versionId.ToString(CultureInfo.InvariantCulture);

    private static long VersionId(string id) => long.Parse(id, NumberStyles.None, CultureInfo.InvariantCulture);

    private static async Task<JsonHttpResult<CreatePolicyResponse>> CreatePolicy(AwsRequest<CreatePolicyRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var created = await policies.CreateAsync(input.PolicyName, input.PolicyDocument, TagsEndpoints.ToTags(input.Tags), cancellationToken);
        return TypedResults.Json(
            new CreatePolicyResponse
            {
                PolicyName = created.Policy.Name,
                PolicyArn = PolicyArn(request.Scope, created.Policy.Name),
                PolicyDocument = created.Version.Document,
                PolicyVersionId = Id(created.Version.VersionId),
            },
            ApiJsonContext.Default.CreatePolicyResponse);
    }

    private static async Task<JsonHttpResult<GetPolicyResponse>> GetPolicy(AwsRequest<GetPolicyRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var (policy, version) = await policies.GetAsync(request.Input.PolicyName, cancellationToken);
        return TypedResults.Json(
            new GetPolicyResponse
            {
                PolicyName = policy.Name,
                PolicyArn = PolicyArn(request.Scope, policy.Name),
                PolicyDocument = version.Document,
                DefaultVersionId = Id(policy.DefaultVersionId),
                CreationDate = policy.CreatedAt,
                LastModifiedDate = policy.LastModifiedAt,
                GenerationId = policy.GenerationId,
            },
            ApiJsonContext.Default.GetPolicyResponse);
    }

    private static async Task<ContentHttpResult> DeletePolicy(AwsRequest<DeletePolicyRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        await policies.DeleteAsync(request.Input.PolicyName, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListPoliciesResponse>> ListPolicies(AwsRequest<ListPoliciesRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await policies.ListAsync(input.AscendingOrder ?? true, request.Page(input.PageSize), cancellationToken);
        return TypedResults.Json(
            new ListPoliciesResponse { Policies = Summaries(request.Scope, page.Items), NextMarker = request.NextToken(page) },
            ApiJsonContext.Default.ListPoliciesResponse);
    }

    private static async Task<JsonHttpResult<CreatePolicyVersionResponse>> CreatePolicyVersion(AwsRequest<CreatePolicyVersionRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var (version, isDefault) = await policies.CreateVersionAsync(input.PolicyName, input.PolicyDocument, input.SetAsDefault ?? false, cancellationToken);
        return TypedResults.Json(
            new CreatePolicyVersionResponse
            {
                PolicyArn = PolicyArn(request.Scope, input.PolicyName),
                PolicyDocument = version.Document,
                PolicyVersionId = Id(version.VersionId),
                IsDefaultVersion = isDefault,
            },
            ApiJsonContext.Default.CreatePolicyVersionResponse);
    }

    private static async Task<JsonHttpResult<GetPolicyVersionResponse>> GetPolicyVersion(AwsRequest<GetPolicyVersionRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var (policy, version) = await policies.GetVersionAsync(request.Input.PolicyName, VersionId(request.Input.PolicyVersionId), cancellationToken);
        return TypedResults.Json(
            new GetPolicyVersionResponse
            {
                PolicyArn = PolicyArn(request.Scope, policy.Name),
                PolicyName = policy.Name,
                PolicyDocument = version.Document,
                PolicyVersionId = Id(version.VersionId),
                IsDefaultVersion = version.VersionId == policy.DefaultVersionId,
                CreationDate = version.CreatedAt,
                LastModifiedDate = version.CreatedAt,
                GenerationId = policy.GenerationId,
            },
            ApiJsonContext.Default.GetPolicyVersionResponse);
    }

    private static async Task<JsonHttpResult<ListPolicyVersionsResponse>> ListPolicyVersions(AwsRequest<ListPolicyVersionsRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var (policy, versions) = await policies.ListVersionsAsync(request.Input.PolicyName, cancellationToken);
        return TypedResults.Json(
            new ListPolicyVersionsResponse
            {
                PolicyVersions = [.. versions.Select(v => new Contracts.PolicyVersion { VersionId = Id(v.VersionId), IsDefaultVersion = v.VersionId == policy.DefaultVersionId, CreateDate = v.CreatedAt })],
            },
            ApiJsonContext.Default.ListPolicyVersionsResponse);
    }

    private static async Task<ContentHttpResult> SetDefaultPolicyVersion(AwsRequest<SetDefaultPolicyVersionRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        await policies.SetDefaultVersionAsync(request.Input.PolicyName, VersionId(request.Input.PolicyVersionId), cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DeletePolicyVersion(AwsRequest<DeletePolicyVersionRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        await policies.DeleteVersionAsync(request.Input.PolicyName, VersionId(request.Input.PolicyVersionId), cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> AttachPolicy(AwsRequest<AttachPolicyRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        await policies.AttachAsync(request.Scope, request.Input.PolicyName, request.Input.Target, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DetachPolicy(AwsRequest<DetachPolicyRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        await policies.DetachAsync(request.Scope, request.Input.PolicyName, request.Input.Target, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListAttachedPoliciesResponse>> ListAttachedPolicies(AwsRequest<ListAttachedPoliciesRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await policies.ListAttachedAsync(request.Scope, input.Target, input.Recursive ?? false, request.Page(input.PageSize), cancellationToken);
        return TypedResults.Json(
            new ListAttachedPoliciesResponse { Policies = Summaries(request.Scope, page.Items), NextMarker = request.NextToken(page) },
            ApiJsonContext.Default.ListAttachedPoliciesResponse);
    }

    private static async Task<ContentHttpResult> AttachPrincipalPolicy(AwsRequest<AttachPrincipalPolicyRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        await policies.AttachAsync(request.Scope, request.Input.PolicyName, request.Input.Principal, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DetachPrincipalPolicy(AwsRequest<DetachPrincipalPolicyRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        await policies.DetachAsync(request.Scope, request.Input.PolicyName, request.Input.Principal, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<ListPrincipalPoliciesResponse>> ListPrincipalPolicies(AwsRequest<ListPrincipalPoliciesRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await policies.ListForPrincipalAsync(request.Scope, input.Principal, input.AscendingOrder ?? true, request.Page(input.PageSize), cancellationToken);
        return TypedResults.Json(
            new ListPrincipalPoliciesResponse { Policies = Summaries(request.Scope, page.Items), NextMarker = request.NextToken(page) },
            ApiJsonContext.Default.ListPrincipalPoliciesResponse);
    }

    private static async Task<JsonHttpResult<ListTargetsForPolicyResponse>> ListTargetsForPolicy(AwsRequest<ListTargetsForPolicyRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var input = request.Input;
        var page = await policies.ListTargetsAsync(input.PolicyName, request.Page(input.PageSize), cancellationToken);
        var targets = page.Items.Select(t => Arn.For(request.Scope, t.Kind == PolicyTarget.CertificateKind ? ResourceKind.Certificate : ResourceKind.ThingGroup, t.Id)).ToList();
        return TypedResults.Json(new ListTargetsForPolicyResponse { Targets = targets, NextMarker = request.NextToken(page) }, ApiJsonContext.Default.ListTargetsForPolicyResponse);
    }

    private static async Task<JsonHttpResult<GetEffectivePoliciesResponse>> GetEffectivePolicies(AwsRequest<GetEffectivePoliciesRequest> request, PolicyService policies, CancellationToken cancellationToken)
    {
        var input = request.Input;
        if (input.CognitoIdentityPoolId is not null)
        {
            Core.Errors.ThrowHelper.InvalidRequest("Cognito identities are not supported by Fleetkey.");
        }

        var effective = await policies.GetEffectiveAsync(request.Scope, input.Principal, input.ThingName, cancellationToken);
        return TypedResults.Json(
            new GetEffectivePoliciesResponse
            {
                EffectivePolicies = [.. effective.Select(p => new Contracts.EffectivePolicy { PolicyName = p.PolicyName, PolicyArn = PolicyArn(request.Scope, p.PolicyName), PolicyDocument = p.Document })],
            },
            ApiJsonContext.Default.GetEffectivePoliciesResponse);
    }

    private static async Task<JsonHttpResult<TestAuthorizationResponse>> TestAuthorization(
        AwsRequest<TestAuthorizationRequest> request, DeviceAuthorizationService authorizations, CancellationToken cancellationToken)
    {
        var input = request.Input;
        if (input.CognitoIdentityPoolId is not null || input.Principal is null)
        {
            Core.Errors.ThrowHelper.InvalidRequest("Fleetkey tests the authorization of certificate principals: principal is required and cognitoIdentityPoolId is not supported.");
        }

        var checks = input.AuthInfos.Select(a => new AuthorizationCheck(ActionOf(a.ActionType), a.Resources)).ToList();
        var outcomes = await authorizations.TestAsync(
            request.Scope, input.Principal, input.ClientId, input.PolicyNamesToAdd ?? [], input.PolicyNamesToSkip ?? [], checks, cancellationToken);
        List<Contracts.Policy> Refs(IReadOnlyList<string> names) => [.. names.Select(n => new Contracts.Policy { PolicyName = n, PolicyArn = PolicyArn(request.Scope, n) })];
        var results = outcomes.Select((o, i) => new AuthResult
        {
            AuthInfo = input.AuthInfos[i],
            Allowed = new Allowed { Policies = Refs(o.AllowedBy) },
            Denied = new Denied
            {
                ImplicitDeny = new ImplicitDeny { Policies = Refs(o.ImplicitlyDeniedBy) },
                ExplicitDeny = new ExplicitDeny { Policies = Refs(o.ExplicitlyDeniedBy) },
            },
            AuthDecision = o.Decision switch
            {
                PolicyDecision.Allowed => "ALLOWED",
                PolicyDecision.ExplicitDeny => "EXPLICIT_DENY",
                _ => "IMPLICIT_DENY",
            },
            MissingContextValues = [],
        }).ToList();
        return TypedResults.Json(new TestAuthorizationResponse { AuthResults = results }, ApiJsonContext.Default.TestAuthorizationResponse);
    }

    private static List<Contracts.Policy> Summaries(IotScope scope, IEnumerable<Core.Registry.Policy> policies) =>
        [.. policies.Select(p => new Contracts.Policy { PolicyName = p.Name, PolicyArn = PolicyArn(scope, p.Name) })];

    // The model's ActionType enum (validated by the binder) names the iot: action; AWS requires it in practice.
    private static string ActionOf(string? actionType) => actionType switch
    {
        "PUBLISH" => IotActions.Publish,
        "SUBSCRIBE" => IotActions.Subscribe,
        "RECEIVE" => IotActions.Receive,
        "CONNECT" => IotActions.Connect,
        _ => throw new Core.Errors.ServiceException(Core.Errors.ErrorCode.InvalidRequest, "authInfos[].actionType is required (PUBLISH, SUBSCRIBE, RECEIVE or CONNECT)."),
    };
}
