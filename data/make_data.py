"""Generate the "newsroom" data set: a fictional Brazilian news portal in 2024.

Six UTF-8 CSV files (header row, ``\\n`` line endings, rows sorted by ``id``):

* categories.csv  id, name, slug                    8 sections
* authors.csv     id, name, email                   60 journalists
* readers.csv     id, name, email, subscribed       500 readers, about 20 % subscribed (1/0)
* news.csv        id, title, slug, category_id, author_id, published_at, summary, body
                  3000 items over 2024; ids follow published_at
* comments.csv    id, news_id, reader_id, text, created_at
                  12000 comments, each within 7 days of its news item; ids follow created_at

and one day of the portal's HTTP access log (module 12, measuring impact), sorted by time:

* access_log.csv  timestamp, method, endpoint, status, duration_ms, queries
                  40000 requests on 2024-11-05 (UTC, ``2024-11-05T13:04:05.123Z``); ``endpoint``
                  is the URL pattern (``/noticia/<slug>/``), not the path; each endpoint has its
                  own share of traffic and a log-normal latency with a tail; a few 404 and 500

Texts are built from word lists and sentence templates in Brazilian Portuguese; people,
companies and e-mail domains are made up. Popularity is skewed on purpose (some sections,
authors, news items and readers get far more than their share), so queries and caches have
hot spots to find. Times are UTC ISO 8601 strings such as ``2024-03-05T14:30:00+00:00``.

Deterministic: each table draws from its own ``random.Random(SEED + n)`` (SEED = 20240101)
and nothing depends on the clock, ``hash()`` or set order, so every run writes byte-identical
files (on the same Python version: ``random`` only promises ``random()`` itself across
versions, so the committed CSV files are the reference). Standard library only. Regenerate
the committed copy with::

    python data/make_data.py              # writes data/newsroom/ next to this script
    python data/make_data.py --out DIR    # writes to DIR instead (tests, comparisons)
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

SEED = 20240101
N_AUTHORS, N_READERS, N_NEWS, N_COMMENTS = 60, 500, 3000, 12000
DEFAULT_OUT = Path(__file__).resolve().parent / "newsroom"
YEAR_START = datetime(2024, 1, 1, tzinfo=UTC)


def split(text: str, sep: str = ",") -> list[str]:
    """The word lists below are written as one string: "a, b, c" -> ["a", "b", "c"]."""
    return [item.strip() for item in text.split(sep)]


# Section -> relative share of the news (deliberately uneven), and how eagerly readers comment.
CATEGORIES = {"Política": 24, "Economia": 16, "Esportes": 22, "Cultura": 9, "Tecnologia": 8,
              "Saúde": 7, "Educação": 4, "Mundo": 10}
CATEGORY_IDS = {name: i for i, name in enumerate(CATEGORIES, start=1)}
BUZZ = {"Política": 2.0, "Esportes": 1.8, "Economia": 1.0, "Mundo": 0.8}  # others: 0.6

FIRST_NAMES = split(
    "João, José, Antônio, Luís, Sebastião, Fábio, Márcio, Sérgio, Rogério, André, Caio, Thiago, "
    "Gustavo, Rafael, Pedro, Lucas, Mateus, Gabriel, Otávio, Joaquim, Vinícius, Rômulo, Raimundo, "
    "Emanuel, Henrique, Davi, Conceição, Cláudia, Lúcia, Patrícia, Júlia, Letícia, Vitória, Inês, "
    "Tânia, Débora, Mônica, Andréia, Cecília, Raíssa, Valéria, Beatriz, Larissa, Camila, "
    "Fernanda, Juliana, Aline, Renata, Ana, Maria, Francisca, Heloísa, Márcia, Sônia, Flávia, "
    "Luíza, Iara, Glória")
SURNAMES = split(
    "Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes, Gonçalves, "
    "Ribeiro, Carvalho, Araújo, Melo, Barbosa, Rocha, Dias, Nascimento, Andrade, Moreira, Nunes, "
    "Marques, Machado, Mendes, Freitas, Cardoso, Ramos, Conceição, Magalhães, Simões, Brandão, "
    "Falcão, Damasceno, Assunção, Guimarães, Patrício, Sá, Fonseca, Prado, Monteiro, Teixeira, "
    "Azevedo, Peixoto, Queiroz, Romão, Leitão, Bezerra, Cavalcanti, Siqueira, Tavares, "
    "Vasconcelos, Xavier, Estêvão, Luz")
AUTHOR_DOMAIN = "redacao.exemplo.com.br"
READER_DOMAINS = split("exemplo.com.br, email.exemplo.com, correio.exemplo.net, exemplo.org.br, "
                       "mail.exemplo.com.br, caixa.exemplo.net")

# Places carry their article ("o Paraná" -> "no Paraná", "do Paraná"); none means "em"/"de".
CITIES = split(
    "São Paulo, o Rio de Janeiro, Belo Horizonte, Salvador, Fortaleza, o Recife, Porto Alegre, "
    "Curitiba, Manaus, Belém, Goiânia, Florianópolis, Vitória, Natal, João Pessoa, Maceió, "
    "Teresina, São Luís, Campo Grande, Cuiabá, Aracaju, Campinas, Niterói, Londrina, Uberlândia, "
    "Juiz de Fora, Ribeirão Preto, Santos, Joinville, Caxias do Sul, Feira de Santana, Petrolina")
STATES = split(
    "São Paulo, o Rio de Janeiro, Minas Gerais, a Bahia, o Paraná, o Rio Grande do Sul, "
    "Pernambuco, o Ceará, o Pará, Santa Catarina, Goiás, o Maranhão, o Amazonas, "
    "o Espírito Santo, a Paraíba, o Rio Grande do Norte, Mato Grosso, Alagoas, o Piauí, "
    "o Distrito Federal, Mato Grosso do Sul, Sergipe, Rondônia, o Tocantins")
COUNTRIES = split(
    "a Argentina, o Chile, Portugal, o México, o Japão, a Índia, a França, a Alemanha, "
    "os Estados Unidos, o Uruguai, a África do Sul, o Canadá, a Itália, a Espanha, a China, "
    "o Paraguai, a Colômbia, o Reino Unido")
EM = {"": "em", "o": "no", "a": "na", "os": "nos"}
DE = {"": "de", "o": "do", "a": "da", "os": "dos"}
TEAMS = split(
    "Flamengo, Palmeiras, Corinthians, São Paulo, Santos, Grêmio, Internacional, "
    "Atlético Mineiro, Cruzeiro, Fluminense, Botafogo, Vasco, Bahia, Fortaleza, "
    "Athletico Paranaense, Sport, Ceará, Goiás")
MONTHS = split("janeiro, fevereiro, março, abril, maio, junho, julho, agosto, setembro, "
               "outubro, novembro, dezembro")
# Relative weights of the UTC hours 0..23: a newsroom busy from 7 to 20 h Brasília time (UTC-3).
HOUR_WEIGHTS = [5, 4, 3, 2, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 10, 9, 9, 10, 10, 9, 8, 7, 6, 5]

# Template fillers: news_context() draws one of each per news item.
FILLERS = {key: split(text) for key, text in {
    "projeto": "reforma tributária, PEC da segurança pública, marco legal das ferrovias, "
    "regulamentação da inteligência artificial, novo código eleitoral, piso da enfermagem, "
    "renegociação das dívidas dos estados, taxação de compras internacionais, "
    "reforma do ensino médio, lei das apostas on-line",
    "area": "habitação popular, saneamento básico, mobilidade urbana, segurança pública, "
    "agricultura familiar, energia solar, educação infantil, turismo, combate às enchentes, "
    "atenção básica à saúde",
    "empresa": "Grupo Aurora, Vale Verde Mineração, Banco Horizonte, Nordeste Energia, "
    "Construtora Alvorada, TecnoSul, Laticínios Serra Azul, Rede Mais Varejo, "
    "Aeroligas do Brasil, Cooperativa Terra Boa, PixFácil",
    "setor": "bancos, mineradoras, varejo, petroleiras, siderúrgicas, construtoras",
    "cultura": "soja, milho, café, cana-de-açúcar, algodão, carne bovina, suco de laranja",
    "estadio": "no Maracanã, no Mineirão, na Arena da Baixada, no MorumBIS, no Beira-Rio, "
    "na Arena Fonte Nova, no Castelão, no Allianz Parque, no Nilton Santos, "
    "na Neo Química Arena, na Arena do Grêmio, em São Januário",
    "reforco": "atacante argentino, meia uruguaio, zagueiro da seleção sub-20, goleiro "
    "experiente, lateral colombiano, volante revelado na base, centroavante português",
    "modalidade": "vôlei, handebol, basquete, judô, skate, ginástica, natação, futebol",
    "metal": "ouro, prata, bronze",
    "genero": "jazz, música sertaneja, forró, rock, cinema independente, samba, MPB, "
    "música eletrônica, teatro de rua, literatura",
    "tema": "a história do samba, a cultura indígena, a arte urbana, a imigração japonesa, "
    "o cangaço, a cultura afro-brasileira, a literatura de cordel, a bossa nova, "
    "a Semana de Arte Moderna, o frevo, a moda dos anos 1980",
    "produto": "sua plataforma de pagamentos, seu aplicativo de entregas, sua ferramenta de IA, "
    "seu serviço de telemedicina, sua rede de energia solar, seu marketplace agrícola",
    "canal": "WhatsApp, SMS, Pix, e-mail, redes sociais, QR code falso",
    "invencao": "sensor que detecta incêndios florestais, robô para inspeção de barragens, "
    "aplicativo que mede a qualidade do ar, drone para monitorar lavouras, "
    "teste rápido para dengue, tradutor de Libras com inteligência artificial",
    "doenca": "dengue, gripe, sarampo, HPV, covid-19, poliomielite, meningite",
    "especialidade": "oncologia, cardiologia, pediatria, ortopedia, saúde mental, oftalmologia",
    "habito": "caminhadas diárias, uma boa noite de sono, uma dieta rica em fibras, "
    "menos açúcar na dieta, musculação, menos tempo de tela",
    "curso": "medicina, engenharia, direito, computação, enfermagem, pedagogia, agronomia",
    "disciplina": "matemática, física, química, robótica, astronomia, língua portuguesa",
    "tema_global": "a crise climática, o combate à fome, a transição energética, "
    "a dívida dos países pobres, a regulação da inteligência artificial, "
    "a proteção das florestas tropicais",
    "motivo": "a reforma da previdência, o aumento dos combustíveis, cortes na educação, "
    "a nova lei de imigração, o custo da moradia, a alta dos alimentos",
    "ordinal": "segunda, terceira, quarta, quinta, sexta, décima",
    "dia": "segunda-feira, terça-feira, quarta-feira, quinta-feira, sexta-feira",
    "direcao": "alta, queda, leve alta, leve queda",
    "sobe_cai": "sobe, cai, avança, recua",
}.items()}
SELIC_RATES = ["10,5", "10,75", "11,25", "11,75", "12,25"]  # the 2024 rates, decimal comma

# Sentence templates, separated by "|". Placeholders come from news_context().
TITLES = {category: split(text, "|") for category, text in {
    "Política": "Câmara aprova {projeto} em votação apertada | Líderes do Congresso fecham "
    "acordo sobre {projeto} | Senado adia votação sobre {projeto} para depois do recesso | "
    "Governo {de_estado} anuncia R$ {num} milhões para {area} | Prefeitura {de_cidade} lança "
    "programa de {area} | Assembleia Legislativa {de_estado} debate {projeto} | Pesquisa aponta "
    "empate técnico na disputa pela prefeitura {de_cidade} | Eleições 2024: candidatos "
    "{de_cidade} fazem último debate antes da votação | TSE registra {num} mil candidaturas "
    "{em_estado} | Câmara Municipal {de_cidade} aprova novo plano diretor",
    "Economia": "Dólar fecha em {direcao} e termina o dia cotado a R$ {cotacao} | Inflação de "
    "{mes_anterior} fica em {ipca}%, aponta IBGE | Ibovespa {sobe_cai} {var}% puxado por ações "
    "de {setor} | {empresa} anuncia investimento de R$ {num} milhões {em_estado} | Desemprego "
    "{em_estado} cai para {pct2}% no trimestre | Preço da gasolina sobe pela {ordinal} semana "
    "seguida {em_cidade} | Exportações de {cultura} batem recorde em {mes} | Safra de {cultura} "
    "deve crescer {pct}% em 2024, estima Conab | Feira de negócios {em_cidade} deve movimentar "
    "R$ {num} milhões | Copom decide juros nesta semana; mercado aposta em Selic de {selic}%",
    "Esportes": "{time} vence o {time2} e assume a liderança do Brasileirão | {time} e {time2} "
    "empatam em jogo movimentado {estadio} | {time} anuncia contratação de {reforco} | Técnico "
    "do {time} é demitido após {n} jogos sem vitória | {time} goleia o {time2} por {placar} e "
    "avança na Copa do Brasil | Atleta {de_cidade} conquista medalha de {metal} nos Jogos de "
    "Paris | Maratona {de_cidade} reúne {num} mil corredores neste domingo | Seleção feminina "
    "de {modalidade} vence {o_pais} e avança no torneio | {time} perde para o {time2} {estadio} "
    "e deixa o G-4 | Torcida do {time} esgota ingressos para o clássico contra o {time2}",
    "Cultura": "Festival de {genero} {de_cidade} anuncia atrações da {ordinal} edição | Museu "
    "{de_cidade} inaugura exposição sobre {tema} | Documentário sobre {tema} é selecionado para "
    "festival internacional | Livro sobre {tema} vence prêmio literário nacional | Show "
    "gratuito de {genero} reúne {num} mil pessoas {em_cidade} | Teatro Municipal {de_cidade} "
    "reabre após {n} anos de reforma | Festa junina {de_cidade} terá {n} dias de programação | "
    "Biblioteca pública {de_cidade} amplia horário e renova acervo",
    "Tecnologia": "Startup {de_cidade} capta R$ {num} milhões para expandir {produto} | Golpe "
    "por {canal} faz vítimas {em_estado}; veja como se proteger | Cobertura 5G chega a {num} "
    "novos municípios {em_estado} | Universidade {de_cidade} desenvolve {invencao} | {empresa} "
    "confirma vazamento de dados de {num} mil clientes | Feira de tecnologia {em_cidade} reúne "
    "{num} expositores | {empresa} anuncia centro de dados {em_estado} | Governo {de_estado} "
    "usa inteligência artificial em projetos de {area}",
    "Saúde": "Casos de {doenca} crescem {pct}% {em_estado} | Campanha de vacinação contra "
    "{doenca} é ampliada {em_cidade} | Hospital {de_cidade} inaugura ala de {especialidade} | "
    "Estudo brasileiro aponta benefícios de {habito} para o coração | Fila para cirurgias "
    "eletivas diminui {pct}% {em_estado} | Mutirão de {especialidade} atende {num} pacientes "
    "{em_cidade} | Onda de calor {em_cidade}: médicos dão dicas para evitar desidratação",
    "Educação": "Universidade federal {de_estado} abre {num} vagas em cursos de {curso} | "
    "Escolas {de_cidade} adotam ensino em tempo integral | Sisu: nota de corte em {curso} sobe "
    "{em_estado} | Professores da rede estadual {de_estado} entram em greve | Programa de "
    "alfabetização atende {num} mil crianças {em_estado} | Estudantes {de_cidade} conquistam "
    "medalhas em olimpíada de {disciplina} | Prefeitura {de_cidade} entrega {n} novas creches",
    "Mundo": "Brasil e {o_pais} assinam acordo de cooperação em {area} | Reunião do G20 no "
    "Brasil debate {tema_global} | Chuvas deixam milhares de desabrigados {em_pais} | Protestos "
    "{em_pais} reúnem milhares contra {motivo} | ONU alerta para {tema_global} em novo "
    "relatório | Governo {de_pais} anuncia novas regras para imigrantes | Brasileiros "
    "{em_pais} enfrentam fila para renovar passaporte | Eleições {em_pais} mobilizam eleitores "
    "e observadores internacionais",
}.items()}
# One is the summary; the body reuses the others after the section's lead sentence.
SUMMARIES = {category: split(text, "|") for category, text in {
    "Política": "O tema mexe com o calendário político {de_estado} e deve provocar novas rodadas "
    "de negociação entre governo e oposição até o fim de {mes}. | Parlamentares e especialistas "
    "ouvidos pela reportagem divergem sobre o impacto da medida para os moradores {de_cidade} "
    "e para as contas públicas. | A discussão ganhou força em ano de eleições municipais, e "
    "lideranças {de_estado} tentam transformar o assunto em votos nas urnas de outubro.",
    "Economia": "Analistas avaliam que o resultado reflete o cenário de juros altos e o humor do "
    "mercado, com efeitos diretos sobre o consumo das famílias {em_estado}. | O movimento "
    "surpreendeu parte do mercado, que agora revisa as projeções para o fim de 2024 e para o "
    "custo de vida {em_cidade} e região metropolitana. | Empresários {de_estado} comemoram os "
    "números, mas economistas alertam que o cenário ainda depende da inflação e dos juros nos "
    "próximos meses.",
    "Esportes": "O resultado foi muito comemorado nas redes sociais e aumenta a expectativa do "
    "torcedor para os próximos compromissos da temporada de 2024. | A comissão técnica elogiou "
    "a entrega do grupo, mas avisa que ainda há muito trabalho pela frente e ninguém pode "
    "relaxar em {mes}. | Dirigentes tratam o momento como decisivo para o planejamento do ano, "
    "que inclui reforços, renovação de contratos e metas mais ambiciosas.",
    "Cultura": "A iniciativa deve movimentar o circuito cultural {de_cidade} e ampliar o acesso "
    "do público a artistas de diferentes gerações e estilos. | Curadores destacam a diversidade "
    "de artistas e a presença de nomes da nova geração vindos de todas as regiões, do "
    "Oiapoque ao Chuí. | Produtores culturais celebram a notícia, mas lembram que o setor ainda "
    "depende de editais públicos e do apoio da iniciativa privada para sobreviver.",
    "Tecnologia": "Especialistas explicam o que muda para usuários e empresas e quais cuidados "
    "tomar com senhas, aplicativos e dados pessoais no dia a dia. | A iniciativa faz parte de "
    "um movimento de digitalização que já atrai investidores para {o_estado} e aquece o mercado "
    "de trabalho local. | O anúncio reacende o debate sobre privacidade, segurança digital e o "
    "papel das grandes plataformas no Brasil, tema ainda em discussão no Congresso.",
    "Saúde": "A secretaria de saúde orienta a população a procurar a unidade básica mais próxima "
    "e a seguir as orientações das equipes {de_cidade}. | Médicos ouvidos pela reportagem "
    "explicam os sintomas, os grupos de risco e em que situações é preciso buscar atendimento "
    "de urgência. | Os números preocupam as autoridades sanitárias {de_estado}, que preparam "
    "novas ações de prevenção e uma campanha informativa para as próximas semanas.",
    "Educação": "Pais, alunos e professores {de_cidade} ainda têm dúvidas sobre prazos e "
    "critérios, e a secretaria promete divulgar novas orientações em breve. | A medida atinge "
    "milhares de estudantes {em_estado} e foi recebida com cautela por sindicatos, diretores "
    "de escola e especialistas em educação. | O Ministério da Educação acompanha o caso de "
    "perto e pretende levar a experiência a outras redes de ensino do país no próximo ano "
    "letivo.",
    "Mundo": "A situação é acompanhada de perto pelo Itamaraty, que mantém contato com a "
    "comunidade brasileira {em_pais} e orienta quem pretende viajar. | Analistas de política "
    "internacional avaliam os reflexos do episódio para a América do Sul e para o comércio "
    "exterior do Brasil nos próximos meses. | O tema deve voltar à pauta nas próximas reuniões "
    "de organismos multilaterais, com pressão de governos, empresas e organizações da "
    "sociedade civil.",
}.items()}
LEADS = {  # the body's first sentence: generic enough to fit every title of its section
    "Política": "O tema domina os bastidores da política {de_estado} há semanas e mobiliza "
    "lideranças de diferentes partidos, de olho no calendário eleitoral.",
    "Economia": "Segundo economistas ouvidos pela reportagem, o cenário combina juros altos, "
    "consumo aquecido e incertezas sobre as contas públicas em 2024.",
    "Esportes": "O resultado foi celebrado pela torcida e pela comissão técnica, que destacou a "
    "dedicação do grupo ao longo de uma temporada de muitos desafios.",
    "Cultura": "O projeto reúne artistas locais e convidados de outras capitais e aposta na "
    "valorização da produção cultural {de_cidade}.",
    "Tecnologia": "O setor de tecnologia {de_estado} cresceu nos últimos anos, impulsionado por "
    "startups, universidades e pela demanda por serviços digitais.",
    "Saúde": "Segundo a secretaria de saúde, a rede pública {de_cidade} vem reforçando equipes e "
    "ampliando horários para dar conta da procura.",
    "Educação": "A secretaria de educação estima que cerca de {num} mil estudantes {em_estado} "
    "sejam afetados, direta ou indiretamente, pelo tema.",
    "Mundo": "O assunto ganhou destaque na imprensa internacional e é acompanhado de perto por "
    "diplomatas brasileiros {em_pais} e em Brasília.",
}
BODY_SENTENCES = split(
    "Procurados pela reportagem, representantes do setor afirmaram que vão acompanhar o caso de "
    "perto e não descartam novas medidas. | A expectativa é que os primeiros efeitos sejam "
    "percebidos já nas próximas semanas {em_cidade} e em outras cidades da região. | Para "
    "especialistas, o tema exige planejamento de longo prazo e diálogo com a sociedade civil. | "
    "Nas redes sociais, o assunto ficou entre os mais comentados do dia e dividiu opiniões. | "
    "O levantamento considera dados oficiais de {mes} e pode ser revisado nos próximos meses. | "
    "Uma nova reunião entre as partes está marcada para a próxima {dia}. | Moradores ouvidos "
    "pela reportagem dizem esperar mudanças concretas no dia a dia. | Em nota, o órgão "
    "responsável disse que vai divulgar mais detalhes nos próximos dias. | A reportagem segue "
    "acompanhando o caso e atualizará esta notícia. | Ainda não há prazo para uma decisão "
    "definitiva, e o tema deve voltar à pauta na {dia}.", "|")

COMMENT_OPENERS = split(
    "Ótima matéria. | Que absurdo! | Finalmente uma boa notícia. | Concordo plenamente. | "
    "Discordo totalmente. | Parabéns pela reportagem. | Alguém sabe mais detalhes? | Isso já era "
    "esperado. | Triste realidade. | Excelente notícia! | Não acredito nisso. | Até que enfim! | "
    "Lamentável. | Sinceramente... | Boa!", "|")
COMMENT_BODIES = split(
    "Aqui {em_cidade} a situação é bem parecida. | Quero ver se isso vai sair do papel. | Faltou "
    "ouvir o outro lado da história. | Sempre a mesma coisa neste país. | Acompanho o assunto há "
    "anos e nunca vi nada igual. | Vou compartilhar com a família. | Espero que o portal "
    "continue acompanhando o caso. | Moro {em_cidade} e posso confirmar. | O título não combina "
    "muito com o texto. | Quem paga a conta no fim é sempre o povo. | Precisamos de mais "
    "notícias assim. | Queria saber de onde vieram esses números. | Meu vizinho comentou sobre "
    "isso ontem mesmo. | Ninguém fala disso {em_cidade}, que bom que vocês publicaram.", "|")
COMMENT_BY_CATEGORY = {category: split(text, "|") for category, text in {
    "Política": "Ano de eleição é sempre a mesma promessa. | Cadê a oposição numa hora dessas? "
    "| Vou lembrar disso na hora de votar.",
    "Economia": "O salário não acompanha os preços do mercado. | No posto aqui perto já subiu. "
    "| Quero ver o reflexo disso no supermercado.",
    "Esportes": "O {time} precisa de reforços urgentemente. | Esse técnico não dura até o fim do "
    "ano. | Vai, {time}! Rumo ao título! | O juiz roubou descaradamente.",
    "Cultura": "Já comprei meu ingresso! | Nossa cultura merece mais investimento. | Fui no ano "
    "passado e foi incrível.",
    "Tecnologia": "Caí num golpe parecido mês passado. | Tomara que chegue no interior também. | "
    "Meus dados já vazaram umas três vezes.",
    "Saúde": "O posto do meu bairro está sem médico há meses. | Vacinei toda a família ontem. | "
    "Cuidem-se, pessoal.",
    "Educação": "Professor merece mais respeito. | Meu filho estuda lá e a escola é ótima. | "
    "Educação deveria ser prioridade.",
    "Mundo": "Tenho parentes lá, fiquei preocupada. | O Brasil deveria se posicionar. | O mundo "
    "está de cabeça para baixo.",
}.items()}
COMMENT_CLOSERS = split("Abraços! | Parabéns à equipe. | Fica a dica. | Vamos acompanhar. | "
                        "Enfim.", "|")


def slugify(text: str) -> str:
    """ASCII, lowercase, hyphen-separated: "Câmara aprova 3,5%" -> "camara-aprova-3-5"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def place(key: str, spec: str) -> dict[str, str]:
    """Template forms of a place: {key}, {em_key}, {de_key} and {o_key} (with its article)."""
    article, _, name = spec.partition(" ")
    if article not in EM:
        article, name = "", spec
    return {key: name, f"em_{key}": f"{EM[article]} {name}", f"de_{key}": f"{DE[article]} {name}",
            f"o_{key}": spec}


def decimal(value: float) -> str:
    """Brazilian style with one decimal: 4.53 -> "4,5", 14.0 -> "14"."""
    return f"{value:.1f}".removesuffix(".0").replace(".", ",")


def zipf_weights(rng: random.Random, n: int, exponent: float) -> list[float]:
    """Weights 1/rank**exponent for ids 1..n, the ranks shuffled so id 1 is not the favourite."""
    ranks = list(range(1, n + 1))
    rng.shuffle(ranks)
    return [1 / rank**exponent for rank in ranks]


def unique_email(local: str, domain: str, taken: set[str]) -> str:
    """local@domain, or local2@domain, local3@domain... if taken (the set is never iterated)."""
    address, n = f"{local}@{domain}", 1
    while address in taken:
        n += 1
        address = f"{local}{n}@{domain}"
    taken.add(address)
    return address


def person_name(rng: random.Random) -> tuple[str, str, str]:
    """A full name, plus its first name and last surname (for the e-mail address)."""
    first = rng.choice(FIRST_NAMES)
    surnames = rng.sample(SURNAMES, 2 if rng.random() < 0.6 else 1)
    return " ".join([first, *surnames]), first, surnames[-1]


def make_authors(rng: random.Random) -> list[list]:
    rows, names, taken = [], set(), set()
    while len(rows) < N_AUTHORS:
        name, first, last = person_name(rng)
        if name not in names:
            names.add(name)
            email = unique_email(f"{slugify(first)}.{slugify(last)}", AUTHOR_DOMAIN, taken)
            rows.append([len(rows) + 1, name, email])
    return rows


def make_readers(rng: random.Random) -> list[list]:
    rows, taken = [], set()
    for reader_id in range(1, N_READERS + 1):
        name, first, last = person_name(rng)
        first, last = slugify(first), slugify(last)
        local = rng.choice([f"{first}.{last}", f"{first}{last}", f"{first}_{last}",
                            f"{first[0]}{last}", f"{first}.{last}{rng.randrange(70, 100)}"])
        email = unique_email(local, rng.choice(READER_DOMAINS), taken)
        rows.append([reader_id, name, email, int(rng.random() < 0.2)])
    return rows


def news_context(rng: random.Random, published: datetime) -> dict[str, str]:
    """One set of fillers, shared by a news item's title, summary and body."""
    ctx = {key: rng.choice(values) for key, values in FILLERS.items()}
    for key, places in (("cidade", CITIES), ("estado", STATES), ("pais", COUNTRIES)):
        ctx.update(place(key, rng.choice(places)))
    team, rival = rng.sample(TEAMS, 2)
    ctx.update(
        time=team, time2=rival, num=str(rng.randrange(2, 900)), n=str(rng.randrange(2, 12)),
        pct=decimal(rng.uniform(2, 35)), pct2=decimal(rng.uniform(4, 12)),
        var=decimal(rng.uniform(0.2, 3.5)), ipca=f"{rng.uniform(0.05, 0.85):.2f}".replace(".", ","),
        cotacao=f"{rng.uniform(4.85, 6.2):.2f}".replace(".", ","), selic=rng.choice(SELIC_RATES),
        placar=f"{rng.randrange(3, 6)} a {rng.randrange(0, 2)}",
        mes=MONTHS[published.month - 1], mes_anterior=MONTHS[published.month - 2],
    )
    return ctx


def news_body(rng: random.Random, category: str, ctx: dict[str, str], summary: str) -> str:
    """The section's lead plus 2-3 more sentences (not the summary), 400-600 characters."""
    lead = LEADS[category].format(**ctx)
    pool = [t for t in SUMMARIES[category] if t != summary] + BODY_SENTENCES
    for _ in range(100):  # draw until the length fits (a handful of tries at most)
        extra = rng.sample(pool, rng.choice([2, 3]))
        body = " ".join([lead, *(template.format(**ctx) for template in extra)])
        if 400 <= len(body) <= 600:
            break
    return body


def publication_times(rng: random.Random) -> list[datetime]:
    """N_NEWS minute-precision times in 2024 (a leap year), daytime-heavy, sorted."""
    times = [
        YEAR_START + timedelta(days=rng.randrange(366), minutes=rng.randrange(60),
                               hours=rng.choices(range(24), HOUR_WEIGHTS)[0])
        for _ in range(N_NEWS)
    ]
    return sorted(times)


def make_news(rng: random.Random) -> list[list]:
    names = list(CATEGORIES)
    category_weights = [CATEGORIES[name] for name in names]
    author_weights = zipf_weights(rng, N_AUTHORS, 0.8)  # a few prolific journalists
    rows = []
    for news_id, published in enumerate(publication_times(rng), start=1):
        category = rng.choices(names, category_weights)[0]
        ctx = news_context(rng, published)
        title = rng.choice(TITLES[category]).format(**ctx)
        summary = rng.choice(SUMMARIES[category])
        author_id = rng.choices(range(1, N_AUTHORS + 1), author_weights)[0]
        rows.append([news_id, title, f"{slugify(title)}-{news_id}", CATEGORY_IDS[category],
                     author_id, published.isoformat(), summary.format(**ctx),
                     news_body(rng, category, ctx, summary)])
    return rows


def comment_text(rng: random.Random, category: str) -> str:
    """A short reader comment, 40-160 characters."""
    ctx = {**place("cidade", rng.choice(CITIES)), "time": rng.choice(TEAMS)}
    bodies = COMMENT_BY_CATEGORY[category] * 2 + COMMENT_BODIES
    for _ in range(100):
        parts = rng.sample(bodies, 2 if rng.random() < 0.3 else 1)
        if rng.random() < 0.6:
            parts.insert(0, rng.choice(COMMENT_OPENERS))
        if rng.random() < 0.25:
            parts.append(rng.choice(COMMENT_CLOSERS))
        text = " ".join(parts).format(**ctx)
        if 40 <= len(text) <= 160 and len(set(parts)) == len(parts):
            break
    return text


def make_comments(rng: random.Random, news: list[list], readers: list[list]) -> list[list]:
    """Pareto-distributed news popularity; subscribers and a few heavy users comment most."""
    section = {i: name for name, i in CATEGORY_IDS.items()}
    popularity = [min(rng.paretovariate(1.8), 25.0) * BUZZ.get(section[row[3]], 0.6)
                  for row in news]
    weights = zipf_weights(rng, N_READERS, 0.7)
    reader_weights = [w * (3 if r[3] else 1) for w, r in zip(weights, readers, strict=True)]
    comments = []
    for item in rng.choices(news, popularity, k=N_COMMENTS):
        if rng.random() < 0.85:  # most comments arrive in the first hours (mean 4 h)
            delay = 60 + min(int(rng.expovariate(1 / 14400)), 6 * 86400)
        else:
            delay = rng.randrange(60, 7 * 86400)
        created = datetime.fromisoformat(item[5]) + timedelta(seconds=delay)
        reader_id = rng.choices(range(1, N_READERS + 1), reader_weights)[0]
        text = comment_text(rng, section[item[3]])
        comments.append([created.isoformat(), item[0], reader_id, text])
    comments.sort()  # ids follow created_at (ties: news id, reader id, text)
    return [[i, news_id, reader_id, text, created]
            for i, (created, news_id, reader_id, text) in enumerate(comments, start=1)]


# The access log (module 12): endpoint -> (share of requests, median ms, log-normal sigma,
# queries (low, high), [(method, share)], chance and factor of a slow outlier). The shares
# make /noticias/ the biggest total time although /exportar/ and /busca/ are far slower
# per request: Iuri de Silvio, "Escalando para o imprevisível": the sum of time gives the priority.
ACCESS_LOG_DAY = datetime(2024, 11, 5, tzinfo=UTC)
N_REQUESTS = 40000
ENDPOINTS = {
    "/noticias/": (0.30, 110.0, 0.45, (61, 82), [("GET", 1.0)], 0.01, 4.0),
    "/noticia/<slug>/": (0.26, 32.0, 0.35, (3, 5), [("GET", 1.0)], 0.005, 5.0),
    "/api/comentarios/": (0.16, 38.0, 0.80, (2, 6), [("GET", 0.8), ("POST", 0.2)], 0.03, 12.0),
    "/health/": (0.16, 1.4, 0.25, (0, 0), [("GET", 1.0)], 0.0, 1.0),
    "/categoria/<slug>/": (0.08, 75.0, 0.45, (41, 62), [("GET", 1.0)], 0.01, 4.0),
    "/busca/": (0.03, 650.0, 0.55, (2, 4), [("GET", 1.0)], 0.02, 4.0),
    "/assinar/": (0.0095, 240.0, 0.40, (6, 9), [("GET", 0.6), ("POST", 0.4)], 0.01, 3.0),
    "/exportar/": (0.0005, 9000.0, 0.45, (1, 3), [("GET", 1.0)], 0.0, 1.0),
}


def access_log_row(rng: random.Random, endpoint: str, when: datetime) -> list:
    share, median_ms, sigma, (q_low, q_high), methods, tail_p, tail_x = ENDPOINTS[endpoint]
    busy = 1 + 0.25 * HOUR_WEIGHTS[when.hour] / max(HOUR_WEIGHTS)  # busy hours are a bit slower
    duration = rng.lognormvariate(math.log(median_ms), sigma) * busy
    if rng.random() < tail_p:  # a lock, a cold cache, a slow disk: the tail
        duration *= tail_x * (0.5 + rng.random())
    method = rng.choices([m for m, _ in methods], [w for _, w in methods])[0]
    queries = rng.randint(q_low, q_high)
    status = 200
    if method == "POST":
        status, duration, queries = 201 if endpoint == "/api/comentarios/" else 302, duration * 1.5, queries + 2
    roll = rng.random()
    if roll < 0.002 or (endpoint == "/busca/" and roll < 0.02):  # timeouts and bugs
        status, duration = 500, duration * 2
    elif endpoint == "/noticia/<slug>/" and roll < 0.012:  # old links
        status, duration, queries = 404, duration * 0.3, 1
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return [stamp, method, endpoint, status, f"{duration:.1f}", queries]


def make_access_log(rng: random.Random) -> list[list]:
    """N_REQUESTS requests over one day, shaped by HOUR_WEIGHTS, sorted by time (ms precision)."""
    names = list(ENDPOINTS)
    weights = [ENDPOINTS[name][0] for name in names]
    times = sorted(
        ACCESS_LOG_DAY + timedelta(hours=rng.choices(range(24), HOUR_WEIGHTS)[0],
                                   milliseconds=rng.randrange(3_600_000))
        for _ in range(N_REQUESTS)
    )
    return [access_log_row(rng, rng.choices(names, weights)[0], when) for when in times]


def write_csv(path: Path, header: str, rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header.split())
        writer.writerows(rows)


def generate(out_dir: Path) -> dict[str, int]:
    """Write the six CSV files into ``out_dir`` (created if needed); return rows per file."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    readers = make_readers(random.Random(SEED + 2))
    news = make_news(random.Random(SEED + 3))
    tables = {
        "categories": ("id name slug", [[i, n, slugify(n)] for n, i in CATEGORY_IDS.items()]),
        "authors": ("id name email", make_authors(random.Random(SEED + 1))),
        "readers": ("id name email subscribed", readers),
        "news": ("id title slug category_id author_id published_at summary body", news),
        "comments": ("id news_id reader_id text created_at",
                     make_comments(random.Random(SEED + 4), news, readers)),
    }
    tables["access_log"] = ("timestamp method endpoint status duration_ms queries",
                            make_access_log(random.Random(SEED + 5)))
    for name, (header, rows) in tables.items():
        write_csv(out_dir / f"{name}.csv", header, rows)
    return {f"{name}.csv": len(rows) for name, (_, rows) in tables.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: data/newsroom next to this script)")
    args = parser.parse_args()
    for name, count in generate(args.out).items():
        print(f"{args.out / name}: {count} rows")


if __name__ == "__main__":
    main()
