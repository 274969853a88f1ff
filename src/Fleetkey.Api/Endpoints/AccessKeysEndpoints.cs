using Fleetkey.Api.Contracts;
using Fleetkey.Api.Hosting;
using Fleetkey.Api.Wire;
using Fleetkey.Core.Registry;
using Fleetkey.Services.Access;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Fleetkey.Api.Endpoints;

/// <summary>
/// <c>/access-keys</c>: Fleetkey's own routes for managing access keys and their identity policies, for a key
/// allowed the <c>fleetkey:*AccessKey*</c> actions (the same service as <c>fleetkey keys</c>).
/// </summary>
internal static class AccessKeysEndpoints
{
    public static IEndpointRouteBuilder MapAccessKeys(this IEndpointRouteBuilder routes)
    {
        routes.MapExtension("CreateAccessKey", Create);
        routes.MapExtension("ListAccessKeys", List);
        routes.MapExtension("DescribeAccessKey", Describe);
        routes.MapExtension("UpdateAccessKey", Update);
        routes.MapExtension("DeleteAccessKey", Delete);
        routes.MapExtension("RotateAccessKey", Rotate);
        routes.MapExtension("AttachAccessKeyPolicy", AttachPolicy);
        routes.MapExtension("DetachAccessKeyPolicy", DetachPolicy);
        return routes;
    }

    private static async Task<JsonHttpResult<CreateAccessKeyResponse>> Create(
        AwsRequest<CreateAccessKeyRequest> request, AccessKeyService keys, TimeProvider time, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var policies = (request.Input.Policies ?? []).Select(p => new AccessKeyPolicy(p.PolicyName ?? string.Empty, p.PolicyDocument ?? string.Empty, time.GetUtcNow())).ToList();
        var key = await keys.CreateAsync(request.Input.Description, policies, fullAccess: false, cancellationToken);
        return TypedResults.Json(
            new CreateAccessKeyResponse
            {
                AccessKeyId = key.AccessKeyId,
                SecretAccessKey = key.SecretAccessKey,
                PrincipalArn = AccessAuthorizer.PrincipalArn(options.Value.AccountId, key.AccessKeyId),
            },
            ApiJsonContext.Default.CreateAccessKeyResponse);
    }

    private static async Task<JsonHttpResult<ListAccessKeysResponse>> List(
        AwsRequest<ListAccessKeysRequest> request, AccessKeyService keys, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var list = await keys.ListAsync(cancellationToken);
        return TypedResults.Json(
            new ListAccessKeysResponse { AccessKeys = [.. list.Select(k => Metadata(k, options.Value.AccountId))] },
            ApiJsonContext.Default.ListAccessKeysResponse);
    }

    private static async Task<JsonHttpResult<DescribeAccessKeyResponse>> Describe(
        AwsRequest<DescribeAccessKeyRequest> request, AccessKeyService keys, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var key = await keys.FindAsync(request.Input.AccessKeyId, cancellationToken)
            ?? throw new Core.Errors.ServiceException(Core.Errors.ErrorCode.ResourceNotFound, $"Access key {request.Input.AccessKeyId} does not exist.");
        return TypedResults.Json(
            new DescribeAccessKeyResponse
            {
                AccessKey = Metadata(key, options.Value.AccountId),
                Policies = [.. key.Policies.Select(p => new IdentityPolicy { PolicyName = p.PolicyName, PolicyDocument = p.Document, AttachedAt = p.AttachedAt })],
            },
            ApiJsonContext.Default.DescribeAccessKeyResponse);
    }

    private static async Task<ContentHttpResult> Update(AwsRequest<UpdateAccessKeyRequest> request, AccessKeyService keys, CancellationToken cancellationToken)
    {
        await keys.SetStatusAsync(request.Input.AccessKeyId, request.Input.Status, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> Delete(AwsRequest<DeleteAccessKeyRequest> request, AccessKeyService keys, CancellationToken cancellationToken)
    {
        if (!await keys.DeleteAsync(request.Input.AccessKeyId, cancellationToken))
        {
            throw new Core.Errors.ServiceException(Core.Errors.ErrorCode.ResourceNotFound, $"Access key {request.Input.AccessKeyId} does not exist.");
        }

        return AwsResults.Empty();
    }

    private static async Task<JsonHttpResult<RotateAccessKeyResponse>> Rotate(AwsRequest<RotateAccessKeyRequest> request, AccessKeyService keys, CancellationToken cancellationToken)
    {
        var grace = request.Input.GraceSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : AccessKeyService.DefaultRotationGrace;
        var key = await keys.RotateAsync(request.Input.AccessKeyId, grace, cancellationToken);
        return TypedResults.Json(
            new RotateAccessKeyResponse { AccessKeyId = key.AccessKeyId, SecretAccessKey = key.SecretAccessKey, PreviousSecretExpiresAt = key.PreviousSecretExpiresAt },
            ApiJsonContext.Default.RotateAccessKeyResponse);
    }

    private static async Task<ContentHttpResult> AttachPolicy(AwsRequest<AttachAccessKeyPolicyRequest> request, AccessKeyService keys, CancellationToken cancellationToken)
    {
        await keys.AttachPolicyAsync(request.Input.AccessKeyId, request.Input.PolicyName, request.Input.PolicyDocument, cancellationToken);
        return AwsResults.Empty();
    }

    private static async Task<ContentHttpResult> DetachPolicy(AwsRequest<DetachAccessKeyPolicyRequest> request, AccessKeyService keys, CancellationToken cancellationToken)
    {
        await keys.DetachPolicyAsync(request.Input.AccessKeyId, request.Input.PolicyName, cancellationToken);
        return AwsResults.Empty();
    }

    private static AccessKeyMetadata Metadata(AccessKey key, string accountId) => new()
    {
        AccessKeyId = key.AccessKeyId,
        Status = key.Status,
        Description = key.Description,
        CreatedAt = key.CreatedAt,
        FullAccess = key.FullAccess,
        PolicyNames = [.. key.Policies.Select(p => p.PolicyName)],
        LastUsedAt = key.LastUsedAt,
        LastUsedSource = key.LastUsedSource,
        PreviousSecretExpiresAt = key.PreviousSecretExpiresAt,
        PrincipalArn = AccessAuthorizer.PrincipalArn(accountId, key.AccessKeyId),
    };
}
