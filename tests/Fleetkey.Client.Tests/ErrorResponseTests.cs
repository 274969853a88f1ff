using System.Net;
using System.Text;
using Xunit;

namespace Fleetkey.Client.Tests;

/// <summary>How an error answer becomes an exception: code, message, status and request id, as rest-json clients read them.</summary>
public sealed class ErrorResponseTests
{
    [Fact]
    public async Task Read_ErrorTypeHeaderWithSuffix_CodeIsBeforeColon()
    {
        var error = await ReadAsync(Response(HttpStatusCode.NotFound, """{"message":"Thing t does not exist."}""", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.iot/"));

        Assert.Equal("ResourceNotFoundException", error.ErrorCode);
        Assert.Equal("Thing t does not exist.", error.Message);
        Assert.Equal("req-1", error.RequestId);
    }

    [Fact]
    public async Task Read_NoHeaderButTypeInBody_CodeIsAfterHash()
    {
        var error = await ReadAsync(Response(HttpStatusCode.Conflict, """{"__type":"com.amazonaws.iot#VersionConflictException","Message":"version 3, not 2"}"""));

        Assert.Equal("VersionConflictException", error.ErrorCode);
        Assert.Equal("version 3, not 2", error.Message);
    }

    [Fact]
    public async Task Read_CodeMember_IsTheCode()
    {
        var error = await ReadAsync(Response(HttpStatusCode.BadRequest, """{"code":"InvalidRequestException","message":"bad"}"""));

        Assert.Equal("InvalidRequestException", error.ErrorCode);
    }

    [Fact]
    public async Task Read_BodyNotJson_MessageIsTheTextAndCodeTheStatus()
    {
        var error = await ReadAsync(Response(HttpStatusCode.BadGateway, "<html>bad gateway</html>", contentType: "text/html"));

        Assert.Equal("502", error.ErrorCode);
        Assert.Equal("<html>bad gateway</html>", error.Message);
        Assert.True(RetryPolicy.IsRetryable(error.StatusCode, error.ErrorCode));
    }

    [Fact]
    public async Task Create_ResourceAlreadyExists_CarriesResourceIdAndArn()
    {
        var error = await ReadAsync(Response(
            HttpStatusCode.Conflict,
            """{"message":"exists","resourceId":"t1","resourceArn":"arn:aws:iot:eu-west-1:000000000000:thing/t1"}""",
            "ResourceAlreadyExistsException"));

        var exception = Assert.IsType<ResourceAlreadyExistsException>(IotErrors.Create(error));

        Assert.Equal("t1", exception.ResourceId);
        Assert.Equal("arn:aws:iot:eu-west-1:000000000000:thing/t1", exception.ResourceArn);
        Assert.Equal(HttpStatusCode.Conflict, exception.StatusCode);
        Assert.Equal("exists", exception.Message);
    }

    [Fact]
    public async Task Create_CodeOutsideTheModel_IsBaseException()
    {
        var error = await ReadAsync(Response(HttpStatusCode.BadRequest, """{"message":"?"}""", "SomethingNewException"));

        var exception = IotErrors.Create(error);

        Assert.Equal(typeof(IotServiceException), exception.GetType());
        Assert.Equal("SomethingNewException", exception.ErrorCode);
    }

    [Fact]
    public void Constructor_PublicForFakes_SetsModelStatus()
    {
        var exception = new ResourceNotFoundException("gone");

        Assert.Equal(("ResourceNotFoundException", HttpStatusCode.NotFound, "gone"), (exception.ErrorCode, exception.StatusCode, exception.Message));
    }

    private static Task<IotErrorResponse> ReadAsync(HttpResponseMessage response) => IotErrorResponse.ReadAsync(response, CancellationToken.None);

    private static HttpResponseMessage Response(HttpStatusCode status, string body, string? errorType = null, string contentType = "application/json")
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        response.Headers.TryAddWithoutValidation("x-amzn-RequestId", "req-1");
        if (errorType is not null)
        {
            response.Headers.TryAddWithoutValidation("x-amzn-ErrorType", errorType);
        }

        return response;
    }
}
