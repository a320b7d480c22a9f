"""The speech translation backend: reads the stack config, builds the components, exports outputs."""

import pulumi
import pulumi_aws as aws

from components.alerting import Alerting, AlertingArgs
from components.audio_transcription import AudioTranscription, AudioTranscriptionArgs
from components.config import load_stack_config
from components.emotion_dynamics import EmotionDynamics, EmotionDynamicsArgs
from components.layers import LambdaLayers, LambdaLayersArgs
from components.session_management import SessionManagement, SessionManagementArgs
from components.shared.platform import Platform
from components.translation_pipeline import TranslationPipeline, TranslationPipelineArgs
from components.web_hosting import WebHosting, WebHostingArgs

config = load_stack_config()
region = aws.config.region
if not region:
    raise pulumi.RunError("config key 'aws:region' is required; set it with `pulumi config set aws:region <region>`")
account_id = aws.get_caller_identity_output().account_id

alerting = Alerting("alerting", AlertingArgs(config=config, account_id=account_id, region=region))
layers = LambdaLayers("layers", LambdaLayersArgs(config=config))
partition = aws.get_partition()
platform = Platform(config=config, region=region, account_id=account_id, alarm_topic_arn=alerting.topic_arn,
                    layer_arns=layers.arns, partition=partition.partition, dns_suffix=partition.dns_suffix)

sessions = SessionManagement("session", SessionManagementArgs(platform=platform))
translation = TranslationPipeline("translation", TranslationPipelineArgs(platform=platform, sessions=sessions))
audio = AudioTranscription("audio", AudioTranscriptionArgs(platform=platform, sessions=sessions, translation=translation.function))
# The emotion code runs inside the stream worker (analysis) and the TranslationProcessor (SSML, Polly).
emotion = EmotionDynamics("emotion", EmotionDynamicsArgs(
    platform=platform, analysis_service=audio.metrics_service, synthesis_service=translation.metrics_service))

pulumi.export("alarm_topic_arn", alerting.topic_arn)
pulumi.export("websocket_url", sessions.websocket.url)
pulumi.export("websocket_management_endpoint", sessions.api.management_endpoint)
pulumi.export("user_pool_id", sessions.identity.user_pool_id)
pulumi.export("user_pool_client_id", sessions.identity.client_id)
pulumi.export("sessions_table", sessions.tables.sessions.name)
pulumi.export("connections_table", sessions.tables.connections.name)
pulumi.export("translation_function", translation.function_name)
pulumi.export("audio_chunks_table", audio.chunks.name)
pulumi.export("partial_results_flag_parameter", audio.feature_flag.name)

if config.web.enabled:
    web = WebHosting("web", WebHostingArgs(
        platform=platform, websocket_url=sessions.websocket.url,
        user_pool_id=sessions.identity.user_pool_id, user_pool_client_id=sessions.identity.client_id))
    pulumi.export("web_url", web.url)
